"""The console's "Delete my data": the danger zone of the account page (what goes, and a
typed confirmation), the report page it leads to, and the owner's form for deleting someone
else's data on the page of people, whose list of deletions shows who, when and how much.

Each is a plain form under `/ui/` answered as the other account forms are: a confirmation
that does not match goes back to the form saying so, and nothing is deleted."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, post
from litestar.response import Template

from contracts.base import DomainError, ErrorCode
from contracts.rules import is_token
from gateway.accounts import forgetting
from gateway.accounts.access import signed_in
from gateway.accounts.pages import back, refusal
from gateway.accounts.sessions import clear_session
from gateway.backend import Backend
from gateway.http.pages import FORM


class ConfirmForm(msgspec.Struct, kw_only=True):
    confirm: str = ""


class ForgetPages(Controller):
    include_in_schema = False

    @post("/ui/account/delete")
    async def delete_mine(
        self, request: Request, backend: Backend, data: ConfirmForm = FORM
    ) -> Response:
        me = signed_in(backend)
        try:
            typed = forgetting.confirmed(forgetting.Confirmation(confirm=data.confirm), me.email)
            report = await forgetting.forget(backend, me.user_id, typed)
        except DomainError as exc:
            if exc.code not in (ErrorCode.INVALID, ErrorCode.CONFLICT):
                raise
            return back("/account", error=refusal(exc))
        page = Template(
            "accounts/deleted.html", context={"report": report, "whose": "your"}, status_code=200
        )
        return clear_session(page, request)

    @post("/ui/admin/users/{user_id:str}/forget")
    async def delete_theirs(
        self, backend: Backend, user_id: str, data: ConfirmForm = FORM
    ) -> Response:
        if not is_token(user_id):  # names no one: answered as for a missing person
            raise DomainError(ErrorCode.NOT_FOUND, "no such person")
        try:
            typed = forgetting.confirmed(forgetting.Confirmation(confirm=data.confirm))
            report = await forgetting.forget(backend, user_id, typed)
        except DomainError as exc:
            if exc.code not in (ErrorCode.INVALID, ErrorCode.CONFLICT, ErrorCode.NOT_FOUND):
                raise
            return back("/admin/users", error=refusal(exc))
        whose = f"{data.confirm.strip()}'s"
        return Template("accounts/deleted.html", context={"report": report, "whose": whose})


ROUTES = [ForgetPages]
