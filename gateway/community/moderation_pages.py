"""The registry owner's moderation queue in the console (`/admin/moderation`, the owner
only, as every `/admin/…` page): each case with hide, restore and dismiss, each with a
reason."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get, post
from litestar.response import Template

from contracts.base import DomainError, ErrorCode
from contracts.community import RegistryModerate, RegistryModerationQueue
from gateway.backend import Backend
from gateway.community.page_parts import back, done_text, refused
from gateway.http.pages import FORM, when

ACTIONS = {"hide": "Hide", "restore": "Restore", "dismiss": "Dismiss"}


class ModerateForm(msgspec.Struct, kw_only=True):
    registry_id: str = ""
    action: str = ""
    reason: str = ""


async def queue_page(
    backend: Backend, *, notice: str | None, error: str | None = None, case_id: str | None = None
) -> dict:
    """The queue, with a notice or the refusal beside the case it is about."""
    cases = (await backend.ask(RegistryModerationQueue())).cases
    return {"cases": cases, "actions": ACTIONS, "when": when, "error": error,
            "error_for": case_id, "notice": notice}  # fmt: skip


class ModerationPages(Controller):
    include_in_schema = False

    @get("/admin/moderation")
    async def queue(self, backend: Backend, done: str = "") -> Template:
        context = await queue_page(backend, notice=done_text(done))
        return Template("community/moderation.html", context=context)

    @post("/ui/admin/moderation/{case_id:str}")
    async def moderate(self, case_id: str, backend: Backend, data: ModerateForm = FORM) -> Response:
        action = data.action if data.action in ACTIONS else ""
        try:
            if not action:
                raise DomainError(ErrorCode.INVALID, "Choose what to do: hide, restore or dismiss.")
            cmd = RegistryModerate(
                registry_id=data.registry_id.strip(),
                case_id=case_id,
                action=action,  # type: ignore[arg-type]
                reason=data.reason.strip(),
                by=backend.actor,
            )
            await backend.send(cmd)
        except DomainError as exc:
            detail = refused(exc).detail
            context = await queue_page(backend, notice=None, error=detail, case_id=case_id)
            return Template("community/moderation.html", context=context, status_code=exc.status)
        return back("/admin/moderation", "moderated")
