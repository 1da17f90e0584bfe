"""The built-in question bank: 50 questions written for Simtune, 10 in each of mathematics,
coding, science, reasoning and creative writing, and the seeded choice of a run's share."""

from services.benchmark.bank.loader import BANK_VERSION, builtin, pick

__all__ = ["BANK_VERSION", "builtin", "pick"]
