"""`simtune projections`: the read models' state, and rebuilding them."""
