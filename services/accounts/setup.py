"""The first owner's way in: while nobody has an account, each start of the service makes a
one-time setup link, says it in the log at WARNING and writes it to
`$SIMTUNE_HOME/setup-link.txt` (mode 0600) for `make run` to print. Whoever opens it first
creates the owner (`ClaimSetup`); the file goes once anyone has an account."""

from __future__ import annotations

import os
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from contracts.accounts import AGGREGATE, SETUP_LINK_FILE, STREAM
from runtime.eventstore import events_of
from runtime.logs import get_logger
from runtime.settings import Settings
from services.accounts.credentials import Credentials

log = get_logger(__name__)


async def anyone_yet(js: JetStreamContext) -> bool:
    """Whether anyone ever had an account on this install: the log holds a user's event."""
    try:
        await js.get_msg(STREAM, seq=1, subject=events_of(STREAM, AGGREGATE), next=True,
                         direct=True)  # fmt: skip
    except NotFoundError:
        return False
    return True


def link_file(settings: Settings) -> Path:
    return settings.home / SETUP_LINK_FILE


async def offer_setup(js: JetStreamContext, credentials: Credentials, settings: Settings) -> None:
    """At start: a setup link when nobody has an account yet; else no stale file."""
    if await anyone_yet(js):
        forget_link_file(settings)
        return
    token = await credentials.new_setup_token()
    link = f"{settings.public_url}/setup?token={token}"
    write_private(link_file(settings), link + "\n")
    log.warning(f"No one has an account yet. Open {link} to create the owner.")


def forget_link_file(settings: Settings) -> None:
    link_file(settings).unlink(missing_ok=True)


def write_private(path: Path, content: str) -> None:
    """Write `content` readable by this user alone (a link that makes its opener owner)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a file left with other modes is not reused
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(content)
