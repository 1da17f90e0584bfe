"""The secrets people hold — API keys, session tokens, sign-in and setup links — made here
and kept only as their sha256: whoever reads the log or the database cannot sign in with
what they find there."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from contracts.accounts import KEY_PREFIX

PREFIX_LENGTH = len(KEY_PREFIX) + 4  # "sk-sim-AbCd": enough to tell a person's keys apart


def digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key_id: str
    key: str  # shown once, in the reply that issued it
    prefix: str
    sha256: str


def new_key() -> NewKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(key_id=uuid.uuid4().hex, key=key, prefix=key[:PREFIX_LENGTH], sha256=digest(key))


def new_token() -> str:
    """A session, sign-in or setup token. Never one that looks like an API key, which is
    how `Whois` tells the two apart."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith(KEY_PREFIX):
            return token


def short_id() -> str:
    """A session's name in lists: never its token."""
    return secrets.token_hex(6)
