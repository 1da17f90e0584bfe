"""Plain helpers (not fixtures) that start the embedded NATS and Postgres, and the gateway,
for tests (and the benchmarks)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import nats

from runtime.devstack.nats_server import EmbeddedNats
from runtime.devstack.postgres import EmbeddedPostgres
from runtime.devstack.util import free_port
from runtime.nats_auth import ADMIN, read_credentials, users_dir
from runtime.settings import Settings, load_settings

if TYPE_CHECKING:
    import uvicorn
    from nats.aio.client import Client as NATS

# What is made once and kept (the embedder converted to ONNX): shared by every stack a test
# starts, each in a home of its own, so it is converted once per machine, not per stack.
SHARED_CACHE_DIR = str(load_settings({}).cache_dir)
# The settings every stack a test starts shares (in process or as processes): small uploads
# and chunks, short redelivery, quiet logs, the one shared cache.
TEST_ENV = {
    "SIMTUNE_MAX_UPLOAD_MB": "2",
    "SIMTUNE_MAX_PAGES": "40",
    "SIMTUNE_CHUNK_SIZE": "400",
    "SIMTUNE_CHUNK_OVERLAP": "60",
    "SIMTUNE_WORK_ACK_WAIT_S": "3",
    "SIMTUNE_LOG_LEVEL": "warning",
    "SIMTUNE_CACHE_DIR": SHARED_CACHE_DIR,
}


def start_embedded_servers(tmp_dir: Path) -> tuple[EmbeddedNats, EmbeddedPostgres]:
    """Start NATS (free port, data in ``tmp_dir/nats``) and Postgres (``tmp_dir/pg/data``).

    Both are started and ready on return; stop them with :func:`stop_embedded_servers`.
    A long ``tmp_dir`` is fine: pgserver moves the UNIX socket to a short runtime dir
    when the data dir would make the socket path too long.
    """
    nats = EmbeddedNats(Path(tmp_dir) / "nats").start()
    try:
        postgres = EmbeddedPostgres(Path(tmp_dir) / "pg" / "data").start()
    except BaseException:
        nats.stop()
        raise
    return nats, postgres


@contextmanager
def own_servers(prefix: str, keep_home: bool = False) -> Iterator[dict[str, str]]:
    """NATS and Postgres of a test's own, in a new home (``mkdtemp(prefix=prefix)``): yields
    the settings that point at them (``NATS_URL``, ``DATABASE_URL``, ``SIMTUNE_HOME``). Both
    are stopped at the end, and the home removed unless `keep_home`."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    nats, postgres = start_embedded_servers(home)
    try:
        yield {"NATS_URL": nats.url, "DATABASE_URL": postgres.url, "SIMTUNE_HOME": str(home)}
    finally:
        stop_embedded_servers(nats, postgres)
        if not keep_home:
            shutil.rmtree(home, ignore_errors=True)


async def admin_connect(nats_url: str, home: Path | str, **options) -> NATS:
    """A connection to the embedded NATS of `home` (a SIMTUNE_HOME: its server keeps its users
    under `<home>/nats/users`) as `admin`, who may do anything: what a test or a benchmark's
    raw baseline speaks with. `options` go to `nats.connect` as they are."""
    credentials = read_credentials(users_dir(Path(home)), ADMIN)
    if credentials is None:
        raise FileNotFoundError(f"no NATS admin user under {home}: start its servers first")
    return await nats.connect(nats_url, **credentials, **options)


def permission_violations(nats_dir: Path) -> list[str]:
    """The lines of the NATS server's log (under `nats_dir`) where it refused a client a
    publish or a subscribe: a service that sends what its NATS user may not shows here, and
    nowhere else but in a timeout."""
    log = Path(nats_dir) / "nats-server.log"
    if not log.is_file():
        return []
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [
        line for line in lines if "Publish Violation" in line or "Subscription Violation" in line
    ]


def stop_embedded_servers(nats: EmbeddedNats, postgres: EmbeddedPostgres) -> None:
    """Stop both servers (data is kept on disk)."""
    try:
        postgres.stop()
    finally:
        nats.stop()


async def serve_gateway(settings: Settings) -> tuple[str, uvicorn.Server, asyncio.Task]:
    """The real gateway, served by uvicorn in this process on a free port, once it listens
    (a start that fails raises): its base URL, the server and the task serving it (stop it
    with `server.should_exit = True`, then await the task)."""
    import uvicorn

    from gateway.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, task
