"""The expert's model used directly, with no passages and no trace: the persona and the
completions that other services write in the expert's voice with (the dataset builder's
questions, a benchmark's answers), and the one-token test of the backend settings."""

from __future__ import annotations

import time
from contextlib import aclosing

from contracts import answers
from contracts.base import DomainError, ErrorCode
from contracts.rules import clean_text
from runtime.service import ServiceHost
from services.expert.aggregates import EXPERT
from services.expert.answering import prompts
from services.expert.backends import Backends, backend_failed, is_bundled, label
from services.expert.domain import profile as profile_domain
from services.expert.domain.profile import ExpertState
from services.expert.llm import BackendError, Params, Piece
from services.expert.llm.base import approx_tokens


class Completions:
    def __init__(self, host: ServiceHost, backends: Backends) -> None:
        self.host, self.backends = host, backends

    async def persona(self, query: answers.GetPersona) -> answers.PersonaView:
        profile = profile_domain.require_live(await self._expert(query), query.expert_id)
        text = prompts.persona(profile, query.budget, approx_tokens)
        return answers.PersonaView(text=text, banned_topics=list(profile.banned_topics))

    async def complete(self, query: answers.Complete) -> answers.Completion:
        state = await self._expert(query)
        profile_domain.require_live(state, query.expert_id)
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
        return answers.Completion(
            text=clean_text("".join(pieces)),
            backend=backend.kind,
            model=backend.model[:200],
            bundled=is_bundled(state.backend, self.host.settings.base_model),
            prompt_tokens=finished.prompt_tokens if finished else 0,
            completion_tokens=finished.completion_tokens if finished else 0,
        )

    async def test_backend(self, query: answers.TestBackend) -> answers.BackendTestResult:
        """A one-token request to the expert's backend; a failure is a result, not an error."""
        state = await self._expert(query)
        profile_domain.require_live(state, query.expert_id)
        started = time.perf_counter()
        try:
            backend = await self.backends.for_expert(query.tenant, query.expert_id, state.backend)
            latency = await backend.check()
        except BackendError as exc:
            return answers.BackendTestResult(
                ok=False, detail=exc.sentence, latency_ms=elapsed(started)
            )
        except Exception as exc:  # a key that cannot be unsealed, a model that cannot load
            detail = getattr(exc, "detail", None) or "the backend could not be reached"
            return answers.BackendTestResult(ok=False, detail=detail, latency_ms=elapsed(started))
        where = label(state.backend, self.host.settings.base_model)
        return answers.BackendTestResult(
            ok=True, detail=f"{where[:1].upper()}{where[1:]} answered.", latency_ms=latency
        )

    async def _expert(
        self, query: answers.GetPersona | answers.Complete | answers.TestBackend
    ) -> ExpertState:
        """The expert as its log has it now (the truth, not the view: no read to wait for)."""
        state, _ = await EXPERT.load(self.host.store, query.tenant, query.expert_id)
        return state


def elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
