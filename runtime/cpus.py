"""How many CPU cores this process may use: those it may run on (its affinity), and no more
than its container's CPU quota allows.

A container limited to 2 CPUs on a 64-core node still sees 64 cores in its affinity. The
numeric libraries (torch, ONNX Runtime's pool here) would start 64 threads there, and the
kernel would let them run 2 CPUs' worth of time each period, then stop them all. Every
default of "every core" in Simtune means this count: a Kubernetes limit, a compose `cpus:`,
a `docker run --cpus` each count.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def quota(root: Path | None = None) -> float | None:
    """The CPUs the quota of this process's cgroup allows (`cpu.max` of cgroup v2, or v1's
    `cpu.cfs_quota_us` / `cpu.cfs_period_us`, under `root`: CGROUP by default); None where
    there is none or none can be read."""
    root = root or CGROUP
    try:
        limit, period = (root / "cpu.max").read_text().split()[:2]
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        limit = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return limit / period if limit > 0 and period > 0 else None


def cores(root: Path | None = None) -> int:
    """The cores this process may use: its affinity, capped by its cgroup's quota (rounded
    up: a limit of 1.5 CPUs is two threads, each busy three quarters of the time)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        usable = os.cpu_count() or 1
    allowed = quota(root)
    if allowed is not None:
        usable = min(usable, math.ceil(allowed))
    return max(1, usable)
