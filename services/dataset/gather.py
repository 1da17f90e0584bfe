"""Candidates from each source, fetched from the services that own them over NATS: the
knowledge service's passages, the expert service's traces, persona and model.

Knowledge examples come from the expert's own backend when a capable one is configured
(one completion per passage, rate-limited and retried), else from the offline generator,
whose answers are the passage's own sentences and so cannot be made up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

from contracts.answers import (
    ChatTurn,
    Citation,
    Complete,
    GetPersona,
    ListTraces,
    PersonaView,
    TraceView,
)
from contracts.base import DomainError, ErrorCode
from contracts.dataset import BuildSpec, KnowledgeSource, Provenance, Rejection, TracesSource
from contracts.knowledge import ListPassages, Passage
from runtime.rpc import ask
from services.dataset.candidates import Candidate
from services.dataset.offline_qa import (
    backend_prompt,
    knowledge_candidates,
    parse_backend_reply,
)

Tick = Callable[[str, int, int], Awaitable[None]]  # stage, done, total
GENERATION_TRIES = 3


class RateLimit:
    """At most `per_s` calls a second, spaced evenly."""

    def __init__(self, per_s: float) -> None:
        self.gap, self._next = 1.0 / per_s, 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        self._next = max(self._next, now)
        delay, self._next = self._next - now, self._next + self.gap
        if delay > 0:
            await asyncio.sleep(delay)


class Gatherer:
    def __init__(self, nc, tenant: str, expert_id: str, rate_per_s: float) -> None:
        self.nc, self.tenant, self.expert_id = nc, tenant, expert_id
        self.limit = RateLimit(rate_per_s)

    async def persona(self) -> PersonaView:
        query = GetPersona(tenant=self.tenant, expert_id=self.expert_id)
        return await ask(self.nc, query)

    async def passages(self) -> AsyncIterator[Passage]:
        after = None
        while True:
            query = ListPassages(tenant=self.tenant, expert_id=self.expert_id, after=after)
            page = await ask(self.nc, query)
            for passage in page.passages:
                yield passage
            if page.next is None:
                return
            after = page.next

    async def traces(self) -> list[TraceView]:
        found, after = [], None
        while True:
            query = ListTraces(
                tenant=self.tenant, expert_id=self.expert_id, kind="answer", limit=200, after=after
            )
            page = await ask(self.nc, query)
            found += page.traces
            if page.next is None:
                return found
            after = page.next

    async def knowledge(
        self, spec: KnowledgeSource, system: str, tick: Tick
    ) -> tuple[list[Candidate], list[Rejection]]:
        """Examples from the passages, and the passages the model wrote nothing usable for."""
        passages = [p async for p in self.passages()]
        if not passages:
            return [], []
        if spec.generator == "offline" or (
            spec.generator == "auto" and not await self.capable_backend()
        ):
            return knowledge_candidates(passages, questions=spec.questions, system=system), []
        chosen = spread(passages, spec.questions)
        found: list[Candidate] = []
        unusable: list[Rejection] = []
        for n, passage in enumerate(chosen, start=1):
            pair = await self.written_by_backend(passage)
            if pair is None:
                unusable.append(unusable_reply(passage))
            else:
                found.append(knowledge_example(passage, *pair, system=system))
            await tick("writing questions from the documents", n, len(chosen))
        return found, unusable

    async def capable_backend(self) -> bool:
        """Whether the expert's backend is more than the small bundled model."""
        probe = Complete(
            tenant=self.tenant,
            expert_id=self.expert_id,
            messages=[ChatTurn(role="user", content="Say OK.")],
            max_tokens=1,
        )
        try:
            reply = await ask(self.nc, probe, timeout=120)
        except DomainError:
            return False
        return not reply.bundled

    async def written_by_backend(self, passage: Passage) -> tuple[str, str] | None:
        messages = [ChatTurn(**m) for m in backend_prompt(passage.text)]
        query = Complete(
            tenant=self.tenant, expert_id=self.expert_id, messages=messages, max_tokens=400
        )
        for attempt in range(GENERATION_TRIES):
            await self.limit.wait()
            try:
                reply = await ask(
                    self.nc, query, timeout=300
                )
            except DomainError as exc:
                if exc.code not in (ErrorCode.BUSY, ErrorCode.BACKEND, ErrorCode.UNAVAILABLE):
                    raise
                if attempt == GENERATION_TRIES - 1:
                    raise DomainError(
                        ErrorCode.BACKEND, f"the expert's model could not write: {exc.detail}"
                    ) from exc
                await asyncio.sleep(2.0**attempt)
                continue
            return parse_backend_reply(reply.text)
        return None


def unusable_reply(passage: Passage) -> Rejection:
    return Rejection(
        source="knowledge",
        code="unusable_reply",
        detail=(
            f"The model's reply for {passage.filename}, page {passage.page}, held no question"
            " and answer Simtune could read."
        ),
        question=" ".join(passage.text.split())[:300],
    )


def traces_candidates(traces: list[TraceView], spec: TracesSource, system: str) -> list[Candidate]:
    """Answers good enough to learn from: scored at least `min_quality`, or rated at least
    `min_rating` (a person's edit, when there is one, is the answer)."""
    found = []
    for t in traces:
        score = t.score.score if t.score else None
        rating = t.feedback.rating if t.feedback else None
        good = (score is not None and score >= spec.min_quality) or (
            rating is not None and rating >= spec.min_rating
        )
        if not good or t.refused:
            continue
        edited = t.feedback.edited_answer if t.feedback else None
        found.append(answer_candidate(t, "traces", edited or t.answer, system, score))
    return found


def feedback_candidates(traces: list[TraceView], system: str) -> list[Candidate]:
    """Every answer a person edited: the edit is the target, the original the rejected side
    of a preference pair."""
    found = []
    for t in traces:
        edited = t.feedback.edited_answer if t.feedback else None
        if edited and edited.strip() != t.answer.strip():
            score = t.score.score if t.score else None
            candidate = answer_candidate(t, "feedback", edited, system, score)
            found.append(replace_rejected(candidate, t.answer))
    return found


def answer_candidate(
    t: TraceView, source: str, answer: str, system: str, score: float | None
) -> Candidate:
    first = t.citations[0] if t.citations else None
    return Candidate(
        source=source,
        question=t.question,
        answer=answer,
        system=system,
        group=t.answer_id,
        provenance=Provenance(
            answer_id=t.answer_id,
            document_id=first.document_id if first else None,
            filename=first.filename if first else None,
            page=first.page if first else None,
            chunk_id=first.chunk_id if first else None,
        ),
        citations=list(t.citations),
        score=score,
        tags=[t.mode],
    )


def replace_rejected(candidate: Candidate, rejected: str) -> Candidate:
    return replace(candidate, rejected=rejected)


def knowledge_example(passage: Passage, question: str, answer: str, *, system: str) -> Candidate:
    citation = Citation(
        n=1,
        document_id=passage.document_id,
        filename=passage.filename,
        page=passage.page,
        chunk_id=passage.chunk_id,
    )
    cited = answer if "[1]" in answer else f"{answer.rstrip()} [1]"
    return Candidate(
        source="knowledge",
        question=question,
        answer=cited,
        system=system,
        group=passage.chunk_id,
        provenance=Provenance(
            document_id=passage.document_id,
            filename=passage.filename,
            page=passage.page,
            chunk_id=passage.chunk_id,
        ),
        citations=[citation],
        tags=["backend"],
    )


def spread(passages: list[Passage], n: int) -> list[Passage]:
    """`n` passages spread evenly over the expert's documents (all of them when fewer)."""
    if n >= len(passages):
        return passages
    step = len(passages) / n
    return [passages[int(i * step)] for i in range(n)]


def manual_candidates(spec: BuildSpec, system: str) -> list[Candidate]:
    return [
        Candidate(
            source="manual",
            question=m.question,
            answer=m.answer,
            system=system,
            group=f"manual-{n}",
            provenance=Provenance(),
            tags=list(m.tags),
        )
        for n, m in enumerate(spec.sources.manual)
    ]
