"""Run the benchmarks: `python -m benchmarks [ingest] [search] [eventstore] [commands] [bigpdf] [generation] [answers] [datasets] [training] [registry] [bench_runs] [dashboard] [contention] [attribution] [retrieval] [grounding] [auth] [sealing] [objects] [community] [replicas] [cluster] [livefeed]` (none: all)."""

from __future__ import annotations

import asyncio
import importlib
import sys

NAMES = (
    "ingest",
    "search",
    "eventstore",
    "commands",
    "bigpdf",
    "generation",
    "answers",
    "datasets",
    "training",
    "registry",
    "bench_runs",
    "dashboard",
    "contention",
    "attribution",
    "retrieval",
    "grounding",
    "auth",
    "sealing",
    "objects",
    "community",
    "replicas",
    "cluster",
    "livefeed",
)


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in NAMES]
    if unknown or "-h" in argv or "--help" in argv:
        print(f"usage: python -m benchmarks [{' | '.join(NAMES)} ...]  (no name: all of them)")
        return 2 if unknown else 0
    for name in argv or NAMES:
        module = importlib.import_module(f"benchmarks.{name}")
        asyncio.run(module.run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
