"""Benchmarks: question sets, scored runs, the composite score and gated promotion."""
