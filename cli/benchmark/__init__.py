"""`simtune benchmark`: scored runs of an expert, their comparison, its questions and a
diagnosis (the benchmark context)."""
