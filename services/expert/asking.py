"""Answering a question or writing a draft: the guardrails, the passages (RAG), the prompt in
the expert's voice, the model's tokens streamed to whoever waits for them, the citations
checked, and the whole of it appended as one `AnswerGiven` trace.

While an answer is written its frames go to whoever listens (`frames.py`); a caller who
goes away stops the model.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import aclosing

import msgspec

from contracts.answers import (
    AnswerGiven,
    AnswerReply,
    Ask,
    Citation,
    GivenSource,
    Queued,
    Sources,
    Written,
)
from contracts.base import DomainError, ErrorCode
from contracts.expert import Profile
from contracts.knowledge import Search
from contracts.rules import clean_text
from runtime.rpc import ask
from runtime.service import ServiceHost
from services.expert import answer_domain, domain, traces
from services.expert.aggregates import ANSWER, EXPERT
from services.expert.answering import guardrails, prompts
from services.expert.answering.citations import check_citations
from services.expert.answering.sources import Source
from services.expert.backends import Backends, backend_failed
from services.expert.deployments import ActiveAdapters
from services.expert.frames import Frames
from services.expert.llm import Adapter, Backend, BackendError, Finished, Params, Piece

PASSAGES = 6  # passages retrieved for a RAG answer (the prompt may keep fewer)
SEARCH_CHARS = 2000  # what the knowledge service's search accepts
DEFAULT_TOKENS = 256


class Answering:
    def __init__(self, host: ServiceHost, backends: Backends) -> None:
        self.host, self.backends = host, backends
        self.adapters = ActiveAdapters(host)

    async def ask(self, cmd: Ask) -> AnswerReply:
        state, _ = await EXPERT.load(self.host.store, cmd.tenant, cmd.expert_id)
        profile = domain.require_live(state, cmd.expert_id)
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
                given = await self._answer(cmd, profile, backend, adapter, frames, started)
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
    ) -> AnswerGiven:
        sources = await self._sources(cmd) if cmd.mode in (None, "rag") else []
        retrieved = time.perf_counter()
        mode = cmd.mode or ("rag" if sources else "closed")
        limit = self.host.settings.max_answer_tokens
        answer_tokens = guardrails.clamp_max_tokens(cmd.max_tokens, limit, DEFAULT_TOKENS)
        messages, given = await self._messages(cmd, mode, profile, sources, backend, answer_tokens)
        prompted = time.perf_counter()
        frames.sources = Sources(sources=[citation_of(s) for s in given])
        params = Params(
            max_tokens=answer_tokens,
            temperature=0.7 if cmd.temperature is None else cmd.temperature,
            top_p=0.95 if cmd.top_p is None else cmd.top_p,
            stop=tuple(cmd.stop),
            background=cmd.purpose == "benchmark",
        )
        text, finished, first_at = await self._generate(backend, adapter, messages, params, frames)
        done_at = time.perf_counter()
        checked = check_citations(clean_text(text), given)
        seconds = done_at - (first_at or done_at)
        tokens = finished.completion_tokens
        return self._trace(
            cmd,
            mode,
            backend,
            answer=checked.text.strip(),
            sources=given,
            citations=[citation_of(s) for s in checked.cited],
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
        return [
            Source(
                n=n,
                document_id=h.document_id,
                filename=h.filename,
                page=h.page,
                chunk_id=h.chunk_id,
                text=h.text,
            )
            for n, h in enumerate(found.results, start=1)
        ]

    async def _messages(
        self,
        cmd: Ask,
        mode: str,
        profile: Profile,
        sources: list[Source],
        backend: Backend,
        answer_tokens: int,
    ) -> tuple[list[dict[str, str]], list[Source]]:
        budget = {
            "context_tokens": backend.context_tokens(),
            "answer_tokens": answer_tokens,
            "count": backend.count_tokens,
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
                    examples = await traces.best_examples(conn, cmd.tenant, cmd.expert_id)
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

    async def _generate(
        self,
        backend: Backend,
        adapter: Adapter | None,
        messages: list[dict[str, str]],
        params: Params,
        frames: Frames,
    ) -> tuple[str, Finished, float | None]:
        loop = asyncio.get_running_loop()

        def on_wait(position: int) -> None:
            loop.create_task(frames.send(Queued(position=position)))

        pieces: list[str] = []
        finished, first_at = None, None

        async def run() -> None:
            nonlocal finished, first_at
            stream = backend.stream(messages, params, adapter=adapter, on_wait=on_wait)
            async with aclosing(stream) as tokens:
                async for item in tokens:
                    if isinstance(item, Piece):
                        first_at = first_at or time.perf_counter()
                        pieces.append(item.text)
                        await frames.send(Written(text=item.text))
                    else:
                        finished = item

        work = asyncio.create_task(run())
        gone = asyncio.create_task(frames.cancelled.wait())
        try:
            await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            raise DomainError(ErrorCode.UNAVAILABLE, "the answer was stopped: its reader left")
        try:
            work.result()
        except BackendError as exc:
            raise backend_failed(exc) from exc
        except ValueError as exc:  # the backend's own checks: a prompt past its context
            raise DomainError(ErrorCode.INVALID, str(exc)) from exc
        text = "".join(pieces)
        if finished is None:  # a backend that reports no counts
            finished = Finished(
                prompt_tokens=0, completion_tokens=backend.count_tokens(text), finish_reason="stop"
            )
        return text, finished, first_at

    def _trace(self, cmd: Ask, mode: str, backend: Backend, **fields) -> AnswerGiven:
        sources = [
            GivenSource(**msgspec.structs.asdict(citation_of(s)), text=s.text)
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


def search_text(cmd: Ask) -> str:
    """What to look the passages up with: the question (and, in a conversation, the turns
    before it, most recent first, while there is room)."""
    text = " ".join(cmd.question.split())
    for turn in reversed(cmd.history):
        if len(text) >= SEARCH_CHARS:
            break
        if turn.role == "user":
            text = f"{text} {' '.join(turn.content.split())}"
    return text[:SEARCH_CHARS].strip() or "?"


def with_history(
    messages: list[dict[str, str]], cmd: Ask, room: int, count
) -> list[dict[str, str]]:
    """Earlier turns of a conversation go between the system prompt and the new question,
    the most recent ones that fit in `room` tokens."""
    kept: list[dict[str, str]] = []
    for turn in reversed(cmd.history):
        cost = count(turn.content) + 4
        if cost > room:
            break
        room -= cost
        kept.insert(0, {"role": turn.role, "content": turn.content})
    if not kept:
        return messages
    head = [m for m in messages[:1] if m["role"] == "system"]
    return head + kept + messages[len(head) :]


def citation_of(source: Source) -> Citation:
    return Citation(
        n=source.n,
        document_id=source.document_id,
        filename=source.filename,
        page=source.page,
        chunk_id=source.chunk_id,
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
    )
