"""People for tests: every request to the gateway has one behind it.

`owner_key(nc)` is the API key of the install's owner (the first user, whose tenant is
"local", as the tests that speak to services directly assume); `person(nc, email)` makes a
member with a key of their own; `session_cookie(nc, user_id)` a console session for a browser.
Created over NATS, as `simtune admin users create` does on the server machine.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from contracts.accounts import (
    SESSION_COOKIE,
    CreateUser,
    IssueApiKey,
    ListUsers,
    StartSession,
)
from contracts.base import DomainError, ErrorCode
from runtime.rpc import ask

OWNER = "owner@simtune.test"


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str
    tenant: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def person(nc, email: str | None = None, *, role: str = "member") -> Person:
    """A person with an API key of every scope their role allows; an address that has an
    account already gets a new key."""
    email = email or f"someone-{uuid.uuid4().hex[:10]}@simtune.test"
    try:
        made = await ask(nc, CreateUser(email=email, role=role, api_key=True, created_by="tests"))
        return Person(made.user_id, made.email, made.tenant, made.api_key or "")
    except DomainError as exc:
        if exc.code != ErrorCode.CONFLICT:
            raise
    users = (await ask(nc, ListUsers())).users
    user = next(u for u in users if u.email == email)
    scopes = ["read", "write", "admin"] if user.role == "owner" else ["read", "write"]
    issued = await ask(nc, IssueApiKey(user_id=user.user_id, name="tests", scopes=scopes))
    return Person(user.user_id, user.email, user.tenant, issued.key)


async def owner(nc) -> Person:
    return await person(nc, OWNER, role="owner")


async def owner_key(nc) -> str:
    return (await owner(nc)).key


async def session_cookie(nc, user_id: str) -> dict[str, str]:
    """A console session for `user_id`, as the cookie a browser would hold."""
    signed = await ask(nc, StartSession(user_id=user_id, method="cli", user_agent="tests"))
    return {SESSION_COOKIE: signed.token}
