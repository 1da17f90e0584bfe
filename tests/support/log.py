"""Reading the event log in a test as a service reads it: with the install's keyring, so the
personal content the services sealed opens (`runtime.sealing`). A bare `EventStore(js)`
has no keyring and refuses sealed events."""

from __future__ import annotations

from pathlib import Path

from runtime.db import make_engine
from runtime.eventstore import EventStore
from runtime.keyring import Keyring
from runtime.sealing import Sealer
from runtime.secrets import SecretBox

_sealer: Sealer | None = None


def use_keyring_of(host) -> None:
    """Read with the keyring of a service of the session (the `services` fixture calls it)."""
    global _sealer
    _sealer = host.sealer


def log_store(nc) -> EventStore:
    """An event store on `nc` that seals and opens as the session's services do."""
    assert _sealer is not None, "start a service first: its keyring opens the log"
    return EventStore(nc.jetstream(), _sealer)


def install_store(nc, home, database_url: str, secret_key: str | None = None) -> EventStore:
    """An event store with the keyring of an install started apart from the session (its own
    servers, services in child processes): its key file under `home`, its database."""
    engine = make_engine(database_url, pool_size=1)
    keyring = Keyring(engine, SecretBox.open(Path(home), secret_key))
    return EventStore(nc.jetstream(), Sealer(keyring))
