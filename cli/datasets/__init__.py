"""`simtune datasets`: an expert's training data, built, listed, shown and exported."""
