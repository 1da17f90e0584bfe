"""Deleting a person's data ("delete my data"): `DELETE /api/me` for the person signed in,
`DELETE /api/admin/users/{id}` with a confirmation for an owner deleting someone else, and
`GET /api/admin/erasures`, the owner's audit of deletions (who, when, counts; never content).

Every deletion is confirmed by typing the address of the account being deleted
(`{"confirm": "ada@example.org"}`): one that does not match deletes nothing and answers 400
saying so. The accounts service decides (the person themselves or an owner; never the last
owner); every service then erases its part, and the answer waits up to `WAIT_S` for all of
them: 200 with the report once every service has said what it removed, 202 with the report
so far (its `pending` services) otherwise; the erasure goes on, and the owner's list shows
it complete. The person's session cookie is cleared: they have no account any more.
"""

from __future__ import annotations

import asyncio
import re

import msgspec
from litestar import Request, Response, delete, get

from contracts import accounts
from contracts.base import DomainError, ErrorCode
from gateway.accounts.access import signed_in
from gateway.backend import Backend
from gateway.http.errors import error_responses

WAIT_S = 30.0  # how long a deletion's answer waits for every service's erasure
POLL_S = 0.5
ASK_TIMEOUT_S = 45.0  # deciding waits for the accounts views to show the deletion
CONFIRM = (
    "To delete this data, confirm by typing the email address of the account being deleted"
    ' exactly: {"confirm": "you@example.org"}.'
)
MISMATCH = "The confirmation does not match the account's email address; nothing was deleted."
EMAIL = re.compile(accounts.EMAIL_PATTERN)


class Confirmation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    confirm: str = ""  # the email address of the account being deleted, typed by hand


def confirmed(data: Confirmation | None, expected: str | None = None) -> str:
    """The typed address, once it reads as one (and is `expected`, when known here)."""
    typed = (data.confirm if data else "").strip()
    if not typed or len(typed) > 254 or not EMAIL.match(typed):
        raise DomainError(ErrorCode.INVALID, CONFIRM)
    if expected is not None and typed.lower() != expected.lower():
        raise DomainError(ErrorCode.INVALID, MISMATCH)
    return typed


async def forget(
    backend: Backend, user_id: str, confirm: str, *, wait_s: float = WAIT_S
) -> accounts.ErasureReport:
    """Ask for the deletion, then wait (up to `wait_s`) for every service's erasure."""
    me = signed_in(backend)
    report = await backend.ask(
        accounts.ForgetUser(user_id=user_id, confirm=confirm, by_user=me.user_id,
                            by=backend.actor),
        timeout=ASK_TIMEOUT_S,
    )  # fmt: skip
    deadline = asyncio.get_running_loop().time() + wait_s
    while not report.complete and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(POLL_S)
        report = await backend.ask(accounts.GetErasure(user_id=user_id, by_user=me.user_id))
    return report


def answer(report: accounts.ErasureReport) -> Response:
    return Response(report, status_code=200 if report.complete else 202)


@delete(
    "/api/me",
    status_code=200,
    summary="Delete my data: my account, experts, documents, answers, datasets, adapters, runs",
    description='Confirm with `{"confirm": "<your email address>"}`. Answers 200 with what'
    " each service removed once all have, or 202 with those still pending after 30 seconds"
    " (the erasure goes on). The session ends: the account is gone.",
    responses=error_responses(400, 401, 409),
)
async def delete_me(
    backend: Backend, request: Request, data: Confirmation | None = None
) -> Response:
    me = signed_in(backend)
    typed = confirmed(data, me.email)
    response = answer(await forget(backend, me.user_id, typed))
    response.delete_cookie(accounts.SESSION_COOKIE, path="/")
    return response


@get("/api/admin/erasures", summary="Every deletion of a person's data (owner only)")
async def erasures(backend: Backend) -> accounts.ErasureList:
    return await backend.ask(accounts.ListErasures(by_user=signed_in(backend).user_id))


ROUTES = [delete_me, erasures]
