"""A dev stack told to use a Postgres of someone else's (`DATABASE_URL`) that does not answer
stops at once with one sentence naming the server, its password hidden, and starts no
embedded Postgres in its place. (The cluster-shape test runs a whole stack on such a URL.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.devstack.util import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_an_unreachable_database_url_stops_the_stack_with_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://simtune:hunter2-secret@127.0.0.1:{port}/simtune"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SIMTUNE_HOME": str(tmp_path / "home"),
        "SIMTUNE_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "runtime.devstack", "up", "--health-timeout", "30"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    said = done.stderr.strip()
    assert said.startswith("devstack: cannot reach the database at"), said
    assert f"simtune:***@127.0.0.1:{port}/simtune (DATABASE_URL)" in said, said
    assert "hunter2-secret" not in done.stderr + done.stdout
    assert "Traceback" not in said and len(said.splitlines()) == 1, said
    assert not (tmp_path / "home" / "pg").exists()  # no embedded Postgres was started instead
