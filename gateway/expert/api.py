"""`/api/experts`: create, list, read, update (optimistic, `If-Match`) and delete experts."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Parameter

from contracts.base import DomainError, ErrorCode
from contracts.expert import (
    CreateExpert,
    DeleteExpert,
    ExpertView,
    GetExpert,
    ListExperts,
    Profile,
    ProfilePatch,
    UpdateExpert,
)
from gateway.backend import Backend
from gateway.http.errors import error_responses


def respond(view: ExpertView, status_code: int = 200) -> Response[ExpertView]:
    """The expert, with its version as ETag (send it back in If-Match to update safely)."""
    return Response(view, status_code=status_code, headers={"ETag": f'"{view.version}"'})


def parse_if_match(raw: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` -> 3; absent or `*` -> None (no version check)."""
    if raw is None or raw.strip() in ("", "*"):
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError(
            ErrorCode.INVALID, f'If-Match must be an expert\'s version such as "3", got {raw!r}'
        )
    return int(value)


async def create_expert(backend: Backend, profile: Profile) -> ExpertView:
    """The new expert, as it is once created (the console's create form too).

    Once the expert is on the log it exists: if its view cannot be read back yet (the database
    out of reach, the view stuck), the 503 says it was created and under which id, so nobody
    sends it again and makes a second one."""
    accepted = await backend.send(CreateExpert(profile=profile))
    try:
        return await backend.ask(GetExpert(expert_id=accepted.id, after_seq=accepted.seq))
    except DomainError as exc:
        if exc.code != ErrorCode.UNAVAILABLE:
            raise
        raise DomainError(
            exc.code,
            f"the expert was created (id {accepted.id}) but cannot be shown yet: {exc.detail};"
            " it appears once the service catches up, so do not create it again",
        ) from exc


class ExpertsController(Controller):
    path = "/api/experts"
    tags = ["experts"]

    @post("/", status_code=201, summary="Create an expert", responses=error_responses(400))
    async def create(self, data: Profile, backend: Backend) -> Response[ExpertView]:
        return respond(await create_expert(backend, data), status_code=201)

    @get("/", summary="List experts")
    async def list_experts(self, backend: Backend) -> list[ExpertView]:
        return (await backend.ask(ListExperts())).experts

    @get("/{expert_id:str}", summary="One expert", responses=error_responses(404))
    async def get_one(self, expert_id: str, backend: Backend) -> Response[ExpertView]:
        return respond(await backend.ask(GetExpert(expert_id=expert_id)))

    @patch(
        "/{expert_id:str}",
        summary="Update an expert's profile (only the fields sent change)",
        description='Send `If-Match: "<version>"` (the ETag) to refuse a stale update with 409.',
        responses=error_responses(400, 404, 409),
    )
    async def update(
        self,
        expert_id: str,
        data: ProfilePatch,
        backend: Backend,
        if_match: str | None = Parameter(header="If-Match", default=None),
    ) -> Response[ExpertView]:
        cmd = UpdateExpert(
            expert_id=expert_id, changes=data, expected_version=parse_if_match(if_match)
        )
        return respond(await backend.send(cmd, then=GetExpert(expert_id=expert_id)))

    @delete(
        "/{expert_id:str}",
        status_code=204,
        summary="Delete an expert and everything it owns",
        responses=error_responses(404),
    )
    async def remove(self, expert_id: str, backend: Backend) -> None:
        await backend.send(DeleteExpert(expert_id=expert_id), then=ListExperts())


ROUTES = [ExpertsController]
