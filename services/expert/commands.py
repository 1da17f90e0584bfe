"""Command handlers of the expert service, by half: the expert's profile and model backend
(`ProfileCommands`), and its answers (`AnswerCommands`: feedback, rescoring). Asking is the
answering flow's (`answering/asking.py`)."""

from __future__ import annotations

import uuid

import msgspec

from contracts.answers import AnswerGiven, ConfigureBackend, GiveFeedback, RescoreAnswers, Rescored
from contracts.base import Accepted, DomainError, ErrorCode
from contracts.expert import CreateExpert, DeleteExpert, UpdateExpert
from runtime.backend_urls import check_base_url
from runtime.keyring import ProviderKeys
from runtime.service import ServiceHost
from services.expert import views
from services.expert.aggregates import ANSWER, EXPERT
from services.expert.answering import scoring
from services.expert.backends import API_KEY_PURPOSE
from services.expert.domain import answers as answer_domain
from services.expert.domain import profile as profile_domain
from services.expert.reactors import Scorer


class ProfileCommands:
    def __init__(self, host: ServiceHost, keys: ProviderKeys) -> None:
        self.host, self.keys = host, keys

    async def create(self, cmd: CreateExpert) -> Accepted:
        expert_id = cmd.expert_id or uuid.uuid4().hex[:12]
        return await self._decide(
            cmd.tenant, expert_id, lambda s: profile_domain.decide_create(s, cmd, expert_id)
        )

    async def update(self, cmd: UpdateExpert) -> Accepted:
        return await self._decide(
            cmd.tenant, cmd.expert_id, lambda s: profile_domain.decide_update(s, cmd)
        )

    async def delete(self, cmd: DeleteExpert) -> Accepted:
        return await self._decide(
            cmd.tenant, cmd.expert_id, lambda s: profile_domain.decide_delete(s, cmd)
        )

    async def configure_backend(self, cmd: ConfigureBackend) -> Accepted:
        """The key, if one came, is sealed here with the tenant's data key, and only its
        sealed form reaches the log; a base_url at a metadata address is refused first."""
        if cmd.base_url and cmd.kind != "local":
            await check_base_url(cmd.base_url, self.host.settings.allowed_backend_hosts)
        sealed = key_id = None
        if cmd.api_key:
            sealed = await self.keys.seal(cmd.tenant, cmd.api_key, API_KEY_PURPOSE)
            key_id = ProviderKeys.KEY_ID
        return await self._decide(
            cmd.tenant,
            cmd.expert_id,
            lambda s: profile_domain.decide_backend(s, cmd, sealed, key_id),
        )

    async def _decide(self, tenant: str, expert_id: str, decide) -> Accepted:
        outcome = await EXPERT.execute(self.host.store, tenant, expert_id, decide)
        return Accepted(id=expert_id, seq=outcome.seq)


class AnswerCommands:
    def __init__(self, host: ServiceHost, scorer: Scorer) -> None:
        self.host, self.scorer = host, scorer

    async def feedback(self, cmd: GiveFeedback) -> Accepted:
        outcome = await ANSWER.execute(
            self.host.store,
            cmd.tenant,
            cmd.answer_id,
            lambda s: answer_domain.decide_feedback(s, cmd),
        )
        return Accepted(id=cmd.answer_id, seq=outcome.seq)

    async def rescore(self, cmd: RescoreAnswers) -> Rescored:
        """Score again every answer of the expert that the current scorer has not scored
        (after the scorer improved)."""
        async with self.host.engine.connect() as conn:
            if await views.get_expert(conn, cmd.tenant, cmd.expert_id) is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"expert {cmd.expert_id} was not found")
            pending = await views.answers_not_scored_by(
                conn, cmd.tenant, cmd.expert_id, scoring.SCORER_VERSION
            )
        for trace in pending:
            await self.scorer.score(cmd.tenant, msgspec.convert(trace, AnswerGiven))
        return Rescored(scored=len(pending), scorer_version=scoring.SCORER_VERSION)
