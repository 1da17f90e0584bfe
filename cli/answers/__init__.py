"""`simtune ask`, `draft`, `feedback`, `traces` and `backend`: the expert answering."""
