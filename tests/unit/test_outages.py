"""Which failures are outages (the database unreachable, a disk full) and which are the
work's own: the first are answered 503 and retried, the second decided as they are."""

from __future__ import annotations

import errno

import asyncpg
import pytest
from nats.js.errors import ServiceUnavailableError
from sqlalchemy.exc import DBAPIError, IntegrityError

from runtime.db import DatabaseUnreachable, make_engine, unreachable
from runtime.eventstore import LogUnavailable
from runtime.outages import disk_full, passing


def caused_by(cause: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("while storing it") from cause
    except RuntimeError as exc:
        return exc


ENOSPC = OSError(errno.ENOSPC, "No space left on device")
JETSTREAM_FULL = ServiceUnavailableError(
    code=503, err_code=10023, description="insufficient resources"
)


@pytest.mark.parametrize(
    "error",
    [
        DatabaseUnreachable("cannot connect to the database: refused"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        caused_by(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    ],
)
def test_the_database_out_of_reach_is_an_outage(error: BaseException) -> None:
    assert unreachable(error) and passing(error) and not disk_full(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad input"),
        FileNotFoundError(errno.ENOENT, "a handler's own file is missing"),
        TimeoutError(),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        IntegrityError("INSERT", {}, Exception("duplicate key")),
        KeyError("missing"),
    ],
)
def test_a_failing_statement_is_not_an_outage(error: BaseException) -> None:
    assert not unreachable(error) and not passing(error) and not disk_full(error)


def test_a_full_disk_is_an_outage_that_passes_once_space_is_freed() -> None:
    assert disk_full(ENOSPC) and passing(ENOSPC)
    assert disk_full(caused_by(ENOSPC)) and passing(caused_by(ENOSPC))


def test_a_full_event_store_is_disk_full_but_lasts_until_it_restarts() -> None:
    assert disk_full(JETSTREAM_FULL) and not passing(JETSTREAM_FULL)
    other = ServiceUnavailableError(code=503, err_code=10008, description="jetstream not enabled")
    assert not disk_full(other)


async def test_an_engine_whose_server_is_gone_says_so() -> None:
    engine = make_engine("postgresql+asyncpg://postgres@/simtune?host=/nonexistent/socket-dir")
    try:
        with pytest.raises(DatabaseUnreachable) as caught:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    assert unreachable(caught.value) and passing(caught.value)


def test_a_log_without_quorum_is_an_outage_that_passes_when_its_servers_return() -> None:
    lost = LogUnavailable("EXPERT")
    assert passing(lost) and passing(caused_by(lost))
    assert not disk_full(lost)
