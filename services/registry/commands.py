"""Commands of the registry: activate, roll back, tag, delete and verify versions.

Every change is decided on the expert's versions and appended with the sequence it was
decided on. A change that lost a race is decided again on the fresh state — and refused
there if it no longer holds (an `expected_version` that moved on, a version deleted
meanwhile). A refusal is recorded on the audit trail before it is answered. Importing and
exporting decide through the same `decide` and `checked`.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.registry import (
    AUDIT,
    BASE,
    CONTEXT,
    ActivateAdapter,
    AdapterView,
    DeleteAdapter,
    GetAdapter,
    RegistryActionRefused,
    RollbackAdapter,
    TagAdapter,
    VerifyAdapter,
)
from runtime.adapter_files import materialize
from runtime.eventstore import ConcurrencyError
from runtime.experts import require_expert
from runtime.service import READ_YOUR_WRITES_S, ServiceHost
from services.registry import domain, views
from services.registry.aggregates import EXPERT_VERSIONS, expert_base
from services.registry.bases import ExpertBase
from services.registry.queries import RegistryQueries

RACE_RETRIES = 30  # a change that lost a race is decided again, at most this often


class RegistryCommands:
    def __init__(self, host: ServiceHost, queries: RegistryQueries) -> None:
        self.host, self.queries = host, queries

    # ---- deciding ---------------------------------------------------------------------------

    async def decide(
        self,
        tenant: str,
        expert_id: str,
        action: str,
        adapter_id: str | None,
        by: str,
        decide: Callable[[domain.Versions], object | None],
        *,
        event_id: str | None = None,
    ) -> int:
        """Decide on the expert's versions and append; the new event's sequence (or the
        last one when nothing changed). A refusal goes on the audit trail, then up."""
        try:
            try:
                outcome = await EXPERT_VERSIONS.execute(
                    self.host.store, tenant, expert_id, decide, event_id=event_id,
                    races=RACE_RETRIES,
                )  # fmt: skip
            except ConcurrencyError as exc:
                raise DomainError(
                    ErrorCode.CONFLICT,
                    "the expert's versions kept changing while this was decided; try again",
                ) from exc
            return outcome.seq
        except DomainError as refusal:
            if refusal.code != ErrorCode.NOT_FOUND or adapter_id is not None:
                await self.refused(tenant, expert_id, action, adapter_id, refusal, by)
            raise

    async def refused(
        self, tenant: str, expert_id: str, action: str, adapter_id: str | None,
        refusal: DomainError, by: str,
    ) -> None:  # fmt: skip
        event = RegistryActionRefused(
            expert_id=expert_id,
            action=action,
            adapter_id=adapter_id,
            code=refusal.code,
            reason=str(refusal.detail)[:500],
            by=by,
        )
        await self.host.store.append(CONTEXT, tenant, AUDIT, expert_id, event, expected_seq=None)

    async def expert_of(self, tenant: str, adapter_id: str) -> str:
        """The expert a version belongs to; 404 when there is no such version."""
        async with self.host.engine.connect() as conn:
            try:
                return await views.expert_of(conn, tenant, adapter_id)
            except DomainError:
                pass  # registered a moment ago, perhaps: look again once the view caught up
        await self.host.caught_up_with_log(timeout=READ_YOUR_WRITES_S)
        async with self.host.engine.connect() as conn:
            return await views.expert_of(conn, tenant, adapter_id)

    async def base_of(self, tenant: str, expert_id: str) -> ExpertBase:
        """The base model the expert's versions must have been trained on."""
        return await expert_base(self.host.store, tenant, expert_id, self.host.settings.base_model)

    async def checked(
        self, tenant: str, expert_id: str, adapter_id: str, by: str, *, always: bool
    ) -> list[str]:
        """Hash a version's files again (copying them here first if they are elsewhere) and
        record the result when it changed anything (or always, when asked to check)."""
        state, _ = await EXPERT_VERSIONS.load(self.host.store, tenant, expert_id)
        version = domain.version_of(state, adapter_id)
        problems: list[str] = []
        if version.registered.files:
            _, problems = await materialize(
                self.host.objects,
                self.host.settings.home,
                tenant,
                adapter_id,
                list(version.registered.files),
            )
        await self.decide(
            tenant,
            expert_id,
            "verify",
            adapter_id,
            by,
            lambda s: domain.decide_checked(s, expert_id, adapter_id, problems, by, always=always),
        )
        return problems

    # ---- commands ---------------------------------------------------------------------------

    async def activate(self, cmd: ActivateAdapter) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        adapter_id = None if cmd.adapter_id in (None, BASE) else cmd.adapter_id
        if adapter_id is not None:
            await self.checked(cmd.tenant, cmd.expert_id, adapter_id, cmd.by, always=False)
        return await self.switch(
            cmd,
            "activate",
            adapter_id,
            lambda s, base: domain.decide_activate(
                s, cmd.expert_id, adapter_id, cmd.expected_version, cmd.by, cmd.reason, base
            ),
        )

    async def rollback(self, cmd: RollbackAdapter) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        chosen = cmd.to_adapter_id is not None
        target = None if cmd.to_adapter_id in (None, BASE) else cmd.to_adapter_id
        if target is None and not chosen:
            state, _ = await EXPERT_VERSIONS.load(self.host.store, cmd.tenant, cmd.expert_id)
            if state.history:
                target = domain.rollback_target(state, None, chosen=False)
        if target is not None and target != BASE:
            try:
                await self.checked(cmd.tenant, cmd.expert_id, target, cmd.by, always=False)
            except DomainError:
                pass  # deleted or unknown: the decision below says so, on the audit trail
        return await self.switch(
            cmd,
            "rollback",
            target,
            lambda s, base: domain.decide_rollback(
                s,
                cmd.expert_id,
                None if cmd.to_adapter_id in (None, BASE) else cmd.to_adapter_id,
                chosen,
                cmd.expected_version,
                cmd.by,
                cmd.reason,
                base,
            ),
        )

    async def tag(self, cmd: TagAdapter) -> Accepted:
        return await self.change(
            cmd,
            "tag",
            lambda s, expert_id: domain.decide_tag(
                s, expert_id, cmd.adapter_id, cmd.add, cmd.remove, cmd.by
            ),
        )

    async def delete(self, cmd: DeleteAdapter) -> Accepted:
        return await self.change(
            cmd,
            "delete",
            lambda s, expert_id: domain.decide_delete(s, expert_id, cmd.adapter_id, cmd.by),
        )

    async def switch(
        self,
        cmd: ActivateAdapter | RollbackAdapter,
        action: str,
        target: str | None,
        decide: Callable[[domain.Versions, ExpertBase], object | None],
    ) -> Accepted:
        """Which version serves the expert (`target`, None for the base model alone), decided
        on its versions with the base model they must all have been trained on."""
        base = await self.base_of(cmd.tenant, cmd.expert_id)
        seq = await self.decide(
            cmd.tenant, cmd.expert_id, action, target, cmd.by, lambda s: decide(s, base)
        )
        return Accepted(id=cmd.expert_id, seq=seq)

    async def change(
        self,
        cmd: TagAdapter | DeleteAdapter,
        action: str,
        decide: Callable[[domain.Versions, str], object | None],
    ) -> Accepted:
        """A change to one version (named by its id alone), decided on its expert's versions."""
        expert_id = await self.expert_of(cmd.tenant, cmd.adapter_id)
        seq = await self.decide(
            cmd.tenant,
            expert_id,
            action,
            cmd.adapter_id,
            cmd.by,
            lambda s: decide(s, expert_id),
        )
        return Accepted(id=cmd.adapter_id, seq=seq)

    async def verify(self, cmd: VerifyAdapter) -> AdapterView:
        expert_id = await self.expert_of(cmd.tenant, cmd.adapter_id)
        await self.checked(cmd.tenant, expert_id, cmd.adapter_id, cmd.by, always=True)
        await self.host.caught_up_with_log(timeout=READ_YOUR_WRITES_S)
        return await self.queries.get(GetAdapter(tenant=cmd.tenant, adapter_id=cmd.adapter_id))
