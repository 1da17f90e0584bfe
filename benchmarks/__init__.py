"""Performance measurements, each beside a raw baseline measured in the same process.

`python -m benchmarks` runs them all; `python -m benchmarks ingest|search|eventstore` one.
See docs/benchmarks.md.
"""
