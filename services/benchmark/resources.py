"""What a run costs the machine: CPU and memory sampled while it runs (and GPU memory where
there is a GPU), so the dashboard can show them beside the scores."""

from __future__ import annotations

import threading

import psutil

from contracts.benchmark import Resources

EVERY_S = 0.5
MB = 1024 * 1024


class Sampler:
    """Samples the machine in a thread: mean CPU (one core = 100) and peak memory in use."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._cpu: list[float] = []
        self._ram_peak = 0.0
        self._vram_peak: float | None = None
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        psutil.cpu_percent(percpu=True)  # the first reading only sets the starting point
        self._thread.start()

    def stop(self) -> Resources:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * EVERY_S)
        self._sample()
        cpu = sum(self._cpu) / len(self._cpu) if self._cpu else 0.0
        return Resources(
            cpu_percent=round(cpu, 1), ram_mb=round(self._ram_peak, 1), vram_mb=self._vram_peak
        )

    def _run(self) -> None:
        while not self._stop.wait(EVERY_S):
            self._sample()

    def _sample(self) -> None:
        self._cpu.append(sum(psutil.cpu_percent(percpu=True)))
        memory = psutil.virtual_memory()
        self._ram_peak = max(self._ram_peak, (memory.total - memory.available) / MB)
        used = _gpu_used_mb()
        if used is not None:
            self._vram_peak = max(self._vram_peak or 0.0, used)


def _gpu_used_mb() -> float | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    free, total = torch.cuda.mem_get_info()
    return round((total - free) / MB, 1)
