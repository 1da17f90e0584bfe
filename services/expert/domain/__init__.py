"""The expert context's two aggregates, pure decide/evolve and no I/O, one module each:

- `profile`: the Expert, a person's expert: its profile and the model backend it answers with.
- `answers`: the Answer, each answer or draft it gave: given once, scored, rated.
"""
