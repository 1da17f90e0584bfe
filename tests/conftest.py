"""Shared fixtures: real embedded NATS + Postgres, real services in-process, a real gateway.

Nothing here mocks a component that runs locally: the session starts its own `nats-server`
and Postgres (pgvector) on free ports/sockets under a temporary directory, runs the expert,
ingest and knowledge services in this process against them, and serves the gateway with
uvicorn on a free port, so HTTP, SSE and the CLI are exercised for real.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import structlog
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime import telemetry
from runtime.settings import Settings, load_settings
from tests.support.accounts import Person, owner
from tests.support.inprocess import start_service
from tests.support.log import use_keyring_of
from tests.support.servers import (
    TEST_ENV,
    admin_connect,
    permission_violations,
    serve_gateway,
    start_embedded_servers,
    stop_embedded_servers,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# A pytest-xdist worker inherits COLUMNS=80, which the CLI's rich console would keep from its
# import on, ignoring the width each CLI test asks for; a plain pytest process has none.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)

# The services run in this process, and the CLI tests read what a command printed to stdout:
# route their log lines through the standard logging module, which pytest captures apart, so
# a logged traceback from a service can never land in the middle of a command's output.
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.format_exc_info,
        structlog.processors.KeyValueRenderer(key_order=["event"]),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
)

SPANS = InMemorySpanExporter()
telemetry.setup_tracing("simtune-tests")
telemetry.add_span_processor(SimpleSpanProcessor(SPANS))

# The trainer in tests: runs need few examples, the schedule is ticked by hand, a hosted
# provider is asked often and tried again soon (a failed call, a failed attempt at a run:
# the same doublings as in use, from a smaller first wait), and a killed training process is
# restarted once.
# Benchmarks in tests: short answers of the tiny model; no run after every fine-tune unless a
# test turns it on (each test's own runs would otherwise compete for the model).
BENCH_ENV = {"SIMTUNE_BENCH_MAX_TOKENS": "8", "SIMTUNE_BENCH_AFTER_TRAINING": "off"}
TRAINER_ENV = {
    "FINETUNE_MIN_TRACES": "6",
    "FINETUNE_SCHEDULE": "off",
    "SIMTUNE_HOSTED_POLL_S": "0.1",
    "SIMTUNE_HOSTED_BACKOFF_S": "0.1",
    "SIMTUNE_RETRY_BACKOFF_S": "0.5",
    "SIMTUNE_TRAIN_RESTARTS": "1",
}


# Every test speaks to the gateway from 127.0.0.1, so per-address limits would let one test's
# sign-ins (the fuzzer's hundreds) refuse the next test's: off for the session. The tests of
# the limits (test_limits.py) start a gateway of their own with small ones.
ONE_ADDRESS_ENV = {
    "SIMTUNE_SIGNIN_ATTEMPTS_PER_IP": "0",
    "SIMTUNE_FAILED_CREDENTIALS_PER_IP": "0",
    "SIMTUNE_ANONYMOUS_REQUESTS_PER_IP": "0",
}


@dataclass
class Servers:
    nats_url: str
    database_url: str
    home: Path
    base_model: Path  # a tiny random Llama built for this session: the local backend's model

    def settings(self, **overrides: str) -> Settings:
        env = {
            **TEST_ENV,
            **ONE_ADDRESS_ENV,
            "NATS_URL": self.nats_url,
            "DATABASE_URL": self.database_url,
            "SIMTUNE_HOME": str(self.home),
            "SIMTUNE_BASE_MODEL": str(self.base_model),
            **overrides,
        }
        return load_settings(env)


@pytest.fixture(scope="session")
def servers() -> Servers:
    # Our own directory, not pytest's tmp_path: pytest prunes old tmp dirs of *other* runs,
    # which would pull the database out from under a concurrent session.
    home = Path(tempfile.mkdtemp(prefix="simtune-test-"))
    from tests.support.tiny_llm import build_tiny_llm

    base_model = build_tiny_llm(home / "tiny-llm")
    nats, pg = start_embedded_servers(home)
    yield Servers(nats_url=nats.url, database_url=pg.url, home=home, base_model=base_model)
    stop_embedded_servers(nats, pg)
    refused = permission_violations(nats.data_dir)
    shutil.rmtree(home, ignore_errors=True)
    # every service and the gateway connect as their own NATS user: one that sent something
    # its user may not would otherwise show only as a timeout somewhere
    assert not refused, "NATS refused these publishes or subscribes:\n" + "\n".join(refused[:20])


@pytest.fixture(scope="session")
def embedder():
    from services.knowledge.embedder import Embedder

    return Embedder()


@dataclass
class Stack:
    url: str
    settings: Settings
    hosts: dict = field(default_factory=dict)

    @property
    def owner(self) -> Person:
        """The install's owner (tenant "local"), whose key the `api` fixture sends."""
        return self.hosts.owner

    async def caught_up(self) -> None:
        for host in self.hosts.values():
            await host.wait_caught_up()


class Services(dict):
    """Every service's host by its context, and the install's owner."""

    owner: Person


@pytest.fixture(scope="session")
async def services(servers, embedder) -> dict:
    """Every service, running in this process."""
    settings = servers.settings()
    # accounts first, and the owner before anyone: the first person on an install owns the
    # tenant "local", which the tests that speak to services directly use
    hosts = Services(accounts=await start_service(settings, "accounts"))
    use_keyring_of(hosts["accounts"])  # what `tests.support.log.log_store` reads the log with
    hosts.owner = await owner(hosts["accounts"].nc)
    for context in ("expert", "ingest", "knowledge", "dataset"):
        hosts[context] = await start_service(settings, context, embedder)
    hosts["trainer"] = await start_service(servers.settings(**TRAINER_ENV), "trainer")
    hosts["registry"] = await start_service(settings, "registry")
    hosts["benchmark"] = await start_service(servers.settings(**BENCH_ENV), "benchmark")
    hosts["community"] = await start_service(settings, "community")
    yield hosts
    for host in hosts.values():
        await host.stop()


@pytest.fixture(scope="session")
async def nc(servers):
    """A client connection to the embedded NATS, as its admin user, for tests that speak to
    services directly."""
    conn = await admin_connect(servers.nats_url, servers.home)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def stack(servers, services) -> Stack:
    settings = servers.settings()
    url, server, task = await serve_gateway(settings)
    yield Stack(url=url, settings=settings, hosts=services)
    server.should_exit = True
    await task


@pytest.fixture
async def api(stack) -> httpx.AsyncClient:
    async with httpx.AsyncClient(
        base_url=stack.url, timeout=30.0, headers=stack.owner.headers
    ) as client:
        yield client


@pytest.fixture
def spans() -> InMemorySpanExporter:
    SPANS.clear()
    return SPANS


# Files that take a minute or more, started first: with `--dist loadfile` each file stays on
# one worker, so a long file handed out last keeps one core busy while the other idles.
LONG_FILES = (
    "test_api_fuzz.py",
    "test_smollm2_finetune.py",
    "test_contract_properties.py",
    "test_cluster_shape.py",
    "test_forget_canary.py",
    "test_raft_training.py",
    "test_account_data_crash.py",
    "test_community_two_stacks.py",
    "test_process_faults.py",
    "test_deploy_files.py",
    "test_retrieval_pages.py",
    "test_crash_recovery.py",
    "test_otlp_export.py",
    "test_smollm2_model.py",
    "test_search_scale.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def first_if_long(item: pytest.Item) -> int:
        name = item.path.name
        return LONG_FILES.index(name) if name in LONG_FILES else len(LONG_FILES)

    items.sort(key=first_if_long)  # stable: within a file and among the rest, as collected
