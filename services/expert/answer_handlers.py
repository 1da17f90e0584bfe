"""Command and query handlers for answers, feedback, traces and the expert's model backend."""

from __future__ import annotations

import time
from contextlib import aclosing

from sqlalchemy import text

from contracts.answers import (
    BackendTestResult,
    BackendView,
    Complete,
    Completion,
    ConfigureBackend,
    GetAnswer,
    GetBackend,
    GetPersona,
    GiveFeedback,
    ListTraces,
    PersonaView,
    TestBackend,
    TracePage,
    TraceView,
)
from contracts.base import Accepted, DomainError, ErrorCode
from contracts.rules import clean_text
from runtime.rpc import not_found
from runtime.secrets import SecretBox
from runtime.service import ServiceHost
from services.expert import answer_domain, domain, traces
from services.expert.aggregates import ANSWER, EXPERT
from services.expert.answering import prompts
from services.expert.backends import Backends, backend_failed, is_bundled, label
from services.expert.llm import BackendError, Params, Piece
from services.expert.llm.base import approx_tokens


class AnswerHandlers:
    def __init__(self, host: ServiceHost, backends: Backends, secrets: SecretBox) -> None:
        self.host, self.backends, self.secrets = host, backends, secrets

    async def feedback(self, cmd: GiveFeedback) -> Accepted:
        outcome = await ANSWER.execute(
            self.host.store,
            cmd.tenant,
            cmd.answer_id,
            lambda s: answer_domain.decide_feedback(s, cmd),
        )
        return Accepted(id=cmd.answer_id, seq=outcome.seq)

    async def get_answer(self, query: GetAnswer) -> TraceView:
        await self.host.caught_up("EXPERT", query.after_seq)
        async with self.host.engine.connect() as conn:
            trace = await traces.get_trace(conn, query.tenant, query.answer_id)
        if trace is None:
            raise not_found(f"answer {query.answer_id}")
        return trace

    async def list_traces(self, query: ListTraces) -> TracePage:
        await self.host.caught_up("EXPERT", query.after_seq)
        async with self.host.engine.connect() as conn:
            await self._require_expert(conn, query.tenant, query.expert_id)
            return await traces.list_traces(conn, query)

    async def configure_backend(self, cmd: ConfigureBackend) -> Accepted:
        sealed = key_id = None
        if cmd.api_key:
            sealed, key_id = self.secrets.seal(cmd.api_key), self.secrets.key_id
        outcome = await EXPERT.execute(
            self.host.store,
            cmd.tenant,
            cmd.expert_id,
            lambda s: domain.decide_backend(s, cmd, sealed, key_id),
        )
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    async def get_backend(self, query: GetBackend) -> BackendView:
        await self.host.caught_up("EXPERT", query.after_seq)
        async with self.host.engine.connect() as conn:
            row = await self._require_expert(conn, query.tenant, query.expert_id)
        shown = row.backend or {"kind": "local", "api_key_set": False, "timeout_s": 60.0}
        state, _ = await EXPERT.load(self.host.store, query.tenant, query.expert_id)
        return BackendView(
            kind=shown["kind"],
            base_url=shown.get("base_url"),
            model=shown.get("model"),
            api_key_set=shown["api_key_set"],
            timeout_s=shown["timeout_s"],
            label=label(state.backend, self.host.settings.base_model),
        )

    async def test_backend(self, query: TestBackend) -> BackendTestResult:
        """A one-token request to the expert's backend; a failure is a result, not an error."""
        state, _ = await EXPERT.load(self.host.store, query.tenant, query.expert_id)
        domain.require_live(state, query.expert_id)
        started = time.perf_counter()
        try:
            backend = await self.backends.for_expert(query.tenant, query.expert_id, state.backend)
            latency = await backend.check()
        except BackendError as exc:
            return BackendTestResult(ok=False, detail=exc.sentence, latency_ms=elapsed(started))
        except Exception as exc:  # a key that cannot be unsealed, a model that cannot load
            detail = getattr(exc, "detail", None) or "the backend could not be reached"
            return BackendTestResult(ok=False, detail=detail, latency_ms=elapsed(started))
        where = label(state.backend, self.host.settings.base_model)
        return BackendTestResult(
            ok=True, detail=f"{where[:1].upper()}{where[1:]} answered.", latency_ms=latency
        )

    async def _require_expert(self, conn, tenant: str, expert_id: str):
        row = (
            await conn.execute(
                text("SELECT backend FROM expert.experts WHERE tenant = :t AND id = :id"),
                {"t": tenant, "id": expert_id},
            )
        ).first()
        if row is None:
            raise not_found(f"expert {expert_id}")
        return row

    async def persona(self, query: GetPersona) -> PersonaView:
        state, _ = await EXPERT.load(self.host.store, query.tenant, query.expert_id)
        profile = domain.require_live(state, query.expert_id)
        text = prompts.persona(profile, query.budget, approx_tokens)
        return PersonaView(text=text, banned_topics=list(profile.banned_topics))

    async def complete(self, query: Complete) -> Completion:
        state, _ = await EXPERT.load(self.host.store, query.tenant, query.expert_id)
        domain.require_live(state, query.expert_id)
        backend = await self.backends.for_expert(query.tenant, query.expert_id, state.backend)
        messages = [{"role": t.role, "content": t.content} for t in query.messages]
        params = Params(max_tokens=query.max_tokens, temperature=query.temperature)
        pieces, finished = [], None
        try:
            async with aclosing(backend.stream(messages, params)) as stream:
                async for item in stream:
                    if isinstance(item, Piece):
                        pieces.append(item.text)
                    else:
                        finished = item
        except BackendError as exc:
            raise backend_failed(exc) from exc
        except ValueError as exc:
            raise DomainError(ErrorCode.INVALID, str(exc)) from exc
        return Completion(
            text=clean_text("".join(pieces)),
            backend=backend.kind,
            model=backend.model[:200],
            bundled=is_bundled(state.backend, self.host.settings.base_model),
            prompt_tokens=finished.prompt_tokens if finished else 0,
            completion_tokens=finished.completion_tokens if finished else 0,
        )


def elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
