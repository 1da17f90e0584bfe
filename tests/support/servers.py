"""Plain helpers (not fixtures) that start the embedded NATS and Postgres for tests."""

from __future__ import annotations

from pathlib import Path

from runtime.devstack.nats_server import EmbeddedNats
from runtime.devstack.postgres import EmbeddedPostgres


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


def stop_embedded_servers(nats: EmbeddedNats, postgres: EmbeddedPostgres) -> None:
    """Stop both servers (data is kept on disk)."""
    try:
        postgres.stop()
    finally:
        nats.stop()
