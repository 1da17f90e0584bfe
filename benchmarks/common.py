"""What every benchmark shares: a fresh embedded stack, in-process services, timing helpers,
the printed table and the JSON line appended to `.bench/results.jsonl`."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from nats.aio.client import Client as NATS

from runtime import telemetry
from runtime.logs import configure_logging
from runtime.service import ServiceHost
from runtime.settings import Settings, load_settings
from tests.support.accounts import Person, owner
from tests.support.inprocess import start_service
from tests.support.servers import serve_gateway, start_embedded_servers, stop_embedded_servers

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".bench" / "results.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass
class Stack:
    """A fresh embedded NATS + Postgres under a temporary directory."""

    nats_url: str
    database_url: str  # SQLAlchemy URL (asyncpg driver), what the services use
    raw_dsn: str  # plain libpq/asyncpg DSN, what the raw baselines use
    home: Path

    def settings(self) -> Settings:
        """The product's default settings, pointed at this stack."""
        return load_settings(
            {
                "NATS_URL": self.nats_url,
                "DATABASE_URL": self.database_url,
                "SIMTUNE_HOME": str(self.home),
                "SIMTUNE_LOG_LEVEL": "warning",
            }
        )


@asynccontextmanager
async def embedded_stack() -> AsyncIterator[Stack]:
    home = Path(tempfile.mkdtemp(prefix="simtune-bench-"))
    nats, pg = start_embedded_servers(home)
    try:
        yield Stack(nats.url, pg.url, pg.raw_dsn, home)
    finally:
        stop_embedded_servers(nats, pg)
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class Served:
    """A served gateway and the person every benchmark's requests come from: the install's
    owner (tenant "local", which the benchmarks that speak to services directly use)."""

    url: str
    owner: Person
    nc: NATS  # the accounts service's connection: more people, or a console session

    @property
    def headers(self) -> dict[str, str]:
        """The owner's `Authorization` header, for an httpx client's `headers=`."""
        return self.owner.headers


@asynccontextmanager
async def served_gateway(settings: Settings) -> AsyncIterator[Served]:
    """The real gateway, served by uvicorn in this process on a free port, once it listens
    (a start that fails raises), with the accounts service in-process and the owner made over
    its NATS (every request needs a person, issue 20); all stopped when the block ends."""
    accounts = await start_service(settings, "accounts")
    try:
        signed = await owner(accounts.nc)
        url, server, serving = await serve_gateway(settings)
        try:
            yield Served(url, signed, accounts.nc)
        finally:
            server.should_exit = True
            await serving
    finally:
        await accounts.stop()


@asynccontextmanager
async def product_api(
    settings: Settings, contexts: Sequence[str], timeout: float
) -> AsyncIterator[tuple[list[ServiceHost], httpx.AsyncClient]]:
    """The services `contexts` in-process (their hosts, in that order), the real gateway and
    an httpx client of it signed in as the owner, `timeout` seconds a request: how a benchmark
    drives the whole product over HTTP. All stopped when the block ends, the services last."""
    hosts = [await start_service(settings, c) for c in contexts]
    try:
        async with (
            served_gateway(settings) as gateway,
            httpx.AsyncClient(
                base_url=gateway.url, headers=gateway.headers, timeout=timeout
            ) as api,
        ):
            yield hosts, api
    finally:
        for host in hosts:
            await host.stop()


async def documents_ready(
    api: httpx.AsyncClient, expert_id: str, files: Sequence[tuple[str, bytes, str]]
) -> None:
    """Upload `files` (name, content, media type) to an expert that has none yet and wait
    until ingest has made every one ready; one that fails raises. Set-up, never timed."""
    for file in files:
        reply = await api.post(f"/api/experts/{expert_id}/documents", files={"file": file})
        reply.raise_for_status()
    while True:
        documents = (await api.get(f"/api/experts/{expert_id}/documents")).json()
        if len(documents) == len(files) and all(d["status"] == "ready" for d in documents):
            return
        if rejected := [d for d in documents if d["status"] == "rejected"]:
            raise RuntimeError(f"a document was rejected: {rejected}")
        await asyncio.sleep(0.2)


_load_at_start: list[float] = []


def begin() -> None:
    """Start of a benchmark: note the machine's load (other work skews every figure), and
    set up logging and tracing as a service process does (`run_service`), but quiet."""
    _load_at_start[:] = [os.getloadavg()[0]]
    configure_logging("bench", fmt="console", level="warning")
    telemetry.setup_tracing("simtune-bench", "none")


class Timer:
    """`with Timer() as t: ...` then `t.s` is the elapsed wall time in seconds."""

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_exc) -> None:
        self.s = time.perf_counter() - self._start


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def percentiles(values: list[float]) -> tuple[float, float]:
    """Median and p95, in milliseconds."""
    return percentile(values, 50) * 1000, percentile(values, 95) * 1000


async def timed_pair(service, raw, check, *, calls: int, warmup: int) -> dict:
    """`calls` calls of each side after `warmup`, alternating which goes first; `check(got,
    side)` looks at every answer. Median and p95 of each side, in milliseconds."""
    for _ in range(warmup):
        check(await service(), "service")
        check(await raw(), "raw")
    served, bare = [], []
    for n in range(calls):
        for side in ("service", "raw") if n % 2 == 0 else ("raw", "service"):
            started = time.perf_counter()
            got = await (service() if side == "service" else raw())
            (served if side == "service" else bare).append(time.perf_counter() - started)
            check(got, side)
    return {
        "service_p50_ms": percentiles(served)[0],
        "service_p95_ms": percentiles(served)[1],
        "raw_p50_ms": percentiles(bare)[0],
        "raw_p95_ms": percentiles(bare)[1],
    }


def print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    cells = [tuple(_fmt(c) for c in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_1m_at_start": _load_at_start[0] if _load_at_start else None,
    }


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return ""
    return out.stdout.strip()


def record(benchmark: str, figures: dict) -> None:
    """Append one JSON line with the figures and the machine to `.bench/results.jsonl`."""
    RESULTS.parent.mkdir(exist_ok=True)
    line = {
        "benchmark": benchmark,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "figures": figures,
    }
    with RESULTS.open("a") as out:
        out.write(json.dumps(line) + "\n")
    print(f"\n(recorded in {RESULTS.relative_to(ROOT)})")
