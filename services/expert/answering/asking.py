"""Answering a question or writing a draft: the guardrails, the passages (RAG), the prompt in
the expert's voice, the model's tokens streamed to whoever waits for them, the citations
checked, and the whole of it appended as one `AnswerGiven` trace.

While an answer is written (`generation.py`) its frames go to whoever listens
(`frames.py`); a caller who goes away stops the model. Each person has at most so many
answers in progress (`waiting.py`).
"""

from __future__ import annotations

import time
import uuid

import msgspec

from contracts.answers import (
    AnswerGiven,
    AnswerReply,
    Ask,
    GivenSource,
    Sources,
)
from contracts.base import DomainError, ErrorCode
from contracts.expert import Profile
from contracts.knowledge import Search
from contracts.rules import clean_text
from runtime.rpc import ask
from runtime.service import ServiceHost
from services.expert import views
from services.expert.aggregates import ANSWER, EXPERT
from services.expert.answering import guardrails, prompts
from services.expert.answering.citations import check_citations
from services.expert.answering.conversation import search_text, with_history
from services.expert.answering.deployed import ActiveAdapters
from services.expert.answering.frames import Frames
from services.expert.answering.generation import generate
from services.expert.answering.grounding import ModelAnswer, ground
from services.expert.answering.sources import Source, source_of
from services.expert.answering.waiting import Waiting
from services.expert.backends import Backends, is_bundled
from services.expert.domain import answers as answer_domain
from services.expert.domain import profile as profile_domain
from services.expert.llm import Adapter, Backend, Params
from services.expert.templates import AppliedTemplate, AppliedTemplates

PASSAGES = 6  # passages retrieved for a RAG answer (the prompt may keep fewer)
DEFAULT_TOKENS = 256


class Answering:
    def __init__(self, host: ServiceHost, backends: Backends) -> None:
        self.host, self.backends = host, backends
        self.adapters = ActiveAdapters(host)
        self.templates = AppliedTemplates(host)
        self.waiting = Waiting(host.settings.max_queued_answers_per_user)

    async def ask(self, cmd: Ask) -> AnswerReply:
        if cmd.purpose == "benchmark":  # not a person's question: not counted (`waiting`)
            return await self._ask(cmd)
        with self.waiting.slot(cmd.tenant):
            return await self._ask(cmd)

    async def _ask(self, cmd: Ask) -> AnswerReply:
        state, _ = await EXPERT.load(self.host.store, cmd.tenant, cmd.expert_id)
        profile = profile_domain.require_live(state, cmd.expert_id)
        backend = await self.backends.for_expert(cmd.tenant, cmd.expert_id, state.backend)
        started = time.perf_counter()
        async with Frames(self.host, cmd.tenant, cmd.stream_id) as frames:
            refusal = guardrails.refusal_for(cmd.question, profile.banned_topics)
            if refusal is not None:
                mode = cmd.mode or "closed"
                given = self._trace(cmd, mode, backend, answer=refusal, refused=refusal)
            else:
                adapter = await self.adapters.for_expert(
                    cmd.tenant, cmd.expert_id, backend.kind, cmd.adapter
                )
                bundled = is_bundled(state.backend, self.host.settings.base_model)
                given = await self._answer(
                    cmd, profile, backend, adapter, frames, started, bundled=bundled
                )
        if cmd.purpose == "benchmark":
            return reply_of(given, 0)  # measured, not a person's answer: no trace
        outcome = await ANSWER.execute(
            self.host.store,
            cmd.tenant,
            given.answer_id,
            lambda s: answer_domain.decide_given(s, given),
        )
        return reply_of(given, outcome.seq)

    async def _answer(
        self,
        cmd: Ask,
        profile: Profile,
        backend: Backend,
        adapter: Adapter | None,
        frames: Frames,
        started: float,
        *,
        bundled: bool,
    ) -> AnswerGiven:
        sources = await self._sources(cmd) if cmd.mode in (None, "rag") else []
        retrieved = time.perf_counter()
        mode = cmd.mode or ("rag" if sources else "closed")
        limit = self.host.settings.max_answer_tokens
        answer_tokens = guardrails.clamp_max_tokens(cmd.max_tokens, limit, DEFAULT_TOKENS)
        template = await self.templates.for_expert(cmd.tenant, cmd.expert_id)
        messages, given = await self._messages(
            cmd, mode, profile, sources, backend, answer_tokens, template
        )
        prompted = time.perf_counter()
        frames.sources = Sources(sources=[s.citation() for s in given])
        params = Params(
            max_tokens=answer_tokens,
            temperature=0.7 if cmd.temperature is None else cmd.temperature,
            top_p=0.95 if cmd.top_p is None else cmd.top_p,
            stop=tuple(cmd.stop),
            background=cmd.purpose == "benchmark",
        )
        text, finished, first_at = await generate(backend, adapter, messages, params, frames)
        done_at = time.perf_counter()
        checked = check_citations(clean_text(text), given)
        grounded = await ground(
            self.host.nc,
            ModelAnswer(
                question=cmd.question,
                text=checked.text.strip(),
                sources=given,
                setting=profile.quote_sources,
                bundled=bundled,
                may_quote=cmd.kind == "answer" and mode == "rag",
            ),
        )
        seconds = done_at - (first_at or done_at)
        tokens = finished.completion_tokens
        return self._trace(
            cmd,
            mode,
            backend,
            answer=grounded.answer,
            sources=given,
            citations=[s.citation() for s in grounded.cited],
            claims=grounded.claims,
            attribution_ms=grounded.ms,
            removed_citations=checked.removed,
            violations=guardrails.output_violations(checked.text, profile.style_guide.dont),
            prompt_tokens=finished.prompt_tokens,
            completion_tokens=tokens,
            finish_reason=finished.finish_reason,
            ttft_ms=((first_at or done_at) - started) * 1000,
            latency_ms=(done_at - started) * 1000,
            tokens_per_s=(tokens - 1) / seconds if tokens > 1 and seconds > 0 else 0.0,
            retrieval_ms=(retrieved - started) * 1000,
            prompt_ms=(prompted - retrieved) * 1000,
            adapter_id=adapter.adapter_id if adapter else None,
            template=template.ref if template else None,
        )

    async def _sources(self, cmd: Ask) -> list[Source]:
        query = Search(tenant=cmd.tenant, expert_id=cmd.expert_id, q=search_text(cmd), k=PASSAGES)
        try:
            found = await ask(self.host.nc, query)
        except DomainError as exc:
            if cmd.mode == "rag":
                raise DomainError(
                    ErrorCode.UNAVAILABLE,
                    f"the expert's documents cannot be searched right now ({exc.detail})",
                ) from exc
            return []  # the default mode falls back to answering closed-book
        return [source_of(n, hit) for n, hit in enumerate(found.results, start=1)]

    async def _messages(
        self,
        cmd: Ask,
        mode: str,
        profile: Profile,
        sources: list[Source],
        backend: Backend,
        answer_tokens: int,
        template: AppliedTemplate | None = None,
    ) -> tuple[list[dict[str, str]], list[Source]]:
        budget = {
            "context_tokens": backend.context_tokens(),
            "answer_tokens": answer_tokens,
            "count": backend.count_tokens,
            "method": template.body if template else "",  # the applied template, every mode
        }
        given: list[Source] = []
        try:
            if cmd.kind == "draft":
                messages, given = prompts.draft_prompt(
                    profile, cmd.question, sources=sources, **budget
                )
            elif mode == "rag":
                messages, given = prompts.rag_messages(profile, cmd.question, sources, **budget)
            elif mode == "prompt_tuned":
                async with self.host.engine.connect() as conn:
                    examples = await views.best_examples(conn, cmd.tenant, cmd.expert_id)
                messages = prompts.few_shot_messages(profile, cmd.question, examples, **budget)
            else:
                messages = prompts.closed_messages(profile, cmd.question, **budget)
        except prompts.PromptTooLong as exc:
            raise DomainError(
                ErrorCode.INVALID,
                f"the question is too long for this model's context of"
                f" {budget['context_tokens']} tokens; shorten it or ask for a shorter answer",
            ) from exc
        used = sum(backend.count_tokens(m["content"]) + 4 for m in messages) + 4
        room = backend.context_tokens() - answer_tokens - used
        return with_history(messages, cmd, room, backend.count_tokens), given

    def _trace(self, cmd: Ask, mode: str, backend: Backend, **fields) -> AnswerGiven:
        sources = [
            GivenSource(**msgspec.structs.asdict(s.citation()), text=s.text)
            for s in fields.pop("sources", [])
        ]
        return AnswerGiven(
            answer_id=uuid.uuid4().hex[:16],
            expert_id=cmd.expert_id,
            kind=cmd.kind,
            mode=mode,
            question=cmd.question,
            sources=sources,
            backend=backend.kind,
            model=backend.model[:200],
            **{"adapter_id": None, **fields},
        )


def reply_of(given: AnswerGiven, seq: int) -> AnswerReply:
    return AnswerReply(
        answer_id=given.answer_id,
        answer=given.answer,
        citations=list(given.citations),
        model=given.model,
        adapter_id=given.adapter_id,
        latency_ms=round(given.latency_ms, 1),
        tokens_per_s=round(given.tokens_per_s, 2),
        mode=given.mode,
        kind=given.kind,
        backend=given.backend,
        removed_citations=given.removed_citations,
        refused=given.refused,
        ttft_ms=round(given.ttft_ms, 1),
        prompt_tokens=given.prompt_tokens,
        completion_tokens=given.completion_tokens,
        finish_reason=given.finish_reason,
        retrieval_ms=round(given.retrieval_ms, 1),
        prompt_ms=round(given.prompt_ms, 1),
        seq=seq,
        claims=list(given.claims),
        attribution_ms=round(given.attribution_ms, 1),
        template=given.template,
    )
