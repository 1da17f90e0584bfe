"""`simtune experts`: an expert's profile."""
