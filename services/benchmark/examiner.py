"""Putting one question to the expert and scoring its answer: the expert answers greedily, as
a benchmark (a person's questions go first and nothing is recorded as a trace); the answer is
scored against the reference by embedding similarity (the knowledge service), word overlap,
citations, the share of its claims the expert found supported by its passages (the reply's
`claims`) and, when the run asks for it, the expert's own backend as judge. A run asks through
it, and a rescore measures the old answers again with it."""

from __future__ import annotations

import msgspec
import numpy as np

from contracts.answers import Ask, ChatTurn, Complete
from contracts.base import DomainError, ErrorCode
from contracts.benchmark import BASE, BenchmarkQueued, Question, QuestionResult
from contracts.knowledge import Embed
from runtime.rpc import ask
from services.benchmark import scoring

ANSWER_TIMEOUT_S = 600.0  # one answer of a slow local model, queued behind people
# The expert service down, its model queue full, or its remote model server refusing (429,
# 5xx): trouble that passes, never a wrong answer. The run's work-queue message is tried again
# with a growing pause and resumes at this question; a run that keeps meeting it ends failed.
PASSING = (ErrorCode.UNAVAILABLE, ErrorCode.BUSY, ErrorCode.BACKEND)


class Examiner:
    def __init__(self, host) -> None:
        self.host = host

    async def answer(self, tenant: str, ev: BenchmarkQueued, q: Question) -> QuestionResult:
        """The expert's answer to `q`, scored; an answer refused for good scores 0 with the
        reason (an outage raises, so the question is asked again)."""
        question = Ask(
            tenant=tenant,
            expert_id=ev.expert_id,
            question=q.question,
            mode=ev.mode or ("rag" if q.kind == "knowledge" else "closed"),
            max_tokens=self.host.settings.bench_max_tokens,
            temperature=0.0,
            adapter=ev.adapter_id or BASE,
            purpose="benchmark",
        )
        try:
            reply = await ask(self.host.nc, question, timeout=ANSWER_TIMEOUT_S)
        except DomainError as exc:
            if exc.code in PASSING:
                raise  # an outage, not an answer: the question is asked again after a pause
            return QuestionResult(question_id=q.id, domain=q.domain, answer="", score=0.0,
                                  scorer="none", scorer_version=scoring.SCORER_VERSION,
                                  error=exc.detail[:300])  # fmt: skip
        similarity = await self.similarity(tenant, reply.answer, q.reference)
        cited = [(c.document_id, c.page) for c in reply.citations]
        scored_cited = None if question.mode == "closed" else cited  # closed book cites nothing
        judged = await self.judged(tenant, ev, q, reply.answer) if ev.judge else None
        rag = scored_cited is not None  # claims are judged against the passages it was given
        claims = scoring.grounded(reply.claims) if rag else None
        scored = scoring.score(q, reply.answer, similarity=similarity, cited=scored_cited,
                               judged=judged, claims=claims)  # fmt: skip
        return msgspec.structs.replace(
            scored,
            response_ms=round(reply.latency_ms, 1),
            completion_tokens=reply.completion_tokens,
            tokens_per_s=round(reply.tokens_per_s, 2),
            cut_off=reply.finish_reason == "length",
            citations=[f"{d}:{p}" for d, p in cited][:20],
        )

    async def rescored(self, tenant: str, q: Question, old: QuestionResult) -> QuestionResult:
        """An answer given before, scored again by the current scorer (what the answer cost
        and cited stays as it was measured)."""
        if old.error is not None:
            return msgspec.structs.replace(old, scorer_version=scoring.SCORER_VERSION)
        similarity = await self.similarity(tenant, old.answer, q.reference)
        new = scoring.score(q, old.answer, similarity=similarity, cited=cited_of(old),
                            claims=claims_of(old))  # fmt: skip
        return msgspec.structs.replace(
            new, response_ms=old.response_ms, completion_tokens=old.completion_tokens,
            tokens_per_s=old.tokens_per_s, cut_off=old.cut_off, citations=old.citations,
        )  # fmt: skip

    async def similarity(self, tenant: str, answer: str, reference: str) -> float | None:
        if not answer.strip():
            return 0.0
        try:
            query = Embed(tenant=tenant, texts=[answer[:2000], reference[:2000]])
            reply = await ask(self.host.nc, query)
        except DomainError:
            return None  # scored by word overlap alone; the result says so
        vectors = np.frombuffer(reply.vectors, dtype=np.float32).reshape(2, reply.dimensions)
        return scoring.cosine(vectors[0].tolist(), vectors[1].tolist())

    async def judged(self, tenant: str, ev: BenchmarkQueued, q: Question, answer: str):
        messages = scoring.judge_messages(q.question, q.reference, q.rubric, answer)
        query = Complete(
            tenant=tenant,
            expert_id=ev.expert_id,
            messages=[ChatTurn(role=m["role"], content=m["content"]) for m in messages],
            max_tokens=64,
            temperature=0.0,
        )
        try:
            reply = await ask(self.host.nc, query, timeout=ANSWER_TIMEOUT_S)
        except DomainError:
            return None
        return scoring.parse_judgement(reply.text, answer)


def claims_of(result: QuestionResult) -> scoring.Grounded | None:
    """How many of an answer's claims were supported, as its result recorded them (a rescore
    has the answer's text but not the expert's judgement of its claims)."""
    parts = result.parts
    if "claims_supported" not in parts or "claims_unsupported" not in parts:
        return None
    return scoring.Grounded(int(parts["claims_supported"]), int(parts["claims_unsupported"]))


def cited_of(result: QuestionResult) -> list[tuple[str, int]]:
    """The (document, page) pairs a result's `document:page` citations name."""
    pairs = []
    for citation in result.citations:
        document_id, _, page = citation.rpartition(":")
        if document_id and page.isdigit():
            pairs.append((document_id, int(page)))
    return pairs
