"""The SQL reads of the expert service's read models (`projections.py`), for its queries,
its answers and its scorer: experts, traces, and the adapter version deployed."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.answers import (
    AnswerGiven,
    Citation,
    Feedback,
    GivenSource,
    ListTraces,
    ScoreView,
    TracePage,
    TraceView,
)
from contracts.base import DomainError, ErrorCode
from contracts.expert import ExpertView, Profile
from runtime.db import row_by_id, struct_of

EXPERT_BACKEND = text("SELECT backend FROM expert.experts WHERE tenant = :t AND id = :id")


# ---- experts --------------------------------------------------------------------------------


def expert_view(row) -> ExpertView:
    profile = msgspec.convert(row.profile, Profile)
    return struct_of(ExpertView, row, **msgspec.structs.asdict(profile))


async def get_expert(conn: AsyncConnection, tenant: str, expert_id: str) -> ExpertView | None:
    row = await row_by_id(conn, "expert.experts", tenant, expert_id)
    return expert_view(row) if row else None


async def list_experts(conn: AsyncConnection, tenant: str) -> list[ExpertView]:
    rows = await conn.execute(
        text("SELECT * FROM expert.experts WHERE tenant = :t ORDER BY created_at, id"),
        {"t": tenant},
    )
    return [expert_view(r) for r in rows]


async def expert_backend(conn: AsyncConnection, tenant: str, expert_id: str) -> Row | None:
    """The expert's row with only its backend as shown (None: no such expert)."""
    return (await conn.execute(EXPERT_BACKEND, {"t": tenant, "id": expert_id})).first()


# ---- traces ---------------------------------------------------------------------------------


def trace_view(row) -> TraceView:
    given = msgspec.convert(row.trace, AnswerGiven)
    score = msgspec.convert(row.score_detail, ScoreView) if row.score_detail else None
    feedback = None
    if row.feedback is not None:
        feedback = Feedback(
            **row.feedback, given_at=row.feedback_at.isoformat(), count=row.feedback_count
        )
    return TraceView(
        answer_id=row.answer_id,
        expert_id=row.expert_id,
        kind=given.kind,
        mode=given.mode,
        question=given.question,
        answer=given.answer,
        citations=[Citation(**msgspec.structs.asdict(c)) for c in given.citations],
        sources=[GivenSource(**msgspec.structs.asdict(s)) for s in given.sources],
        removed_citations=given.removed_citations,
        refused=given.refused,
        violations=given.violations,
        backend=given.backend,
        model=given.model,
        adapter_id=given.adapter_id,
        template=given.template,
        prompt_tokens=given.prompt_tokens,
        completion_tokens=given.completion_tokens,
        ttft_ms=given.ttft_ms,
        latency_ms=given.latency_ms,
        tokens_per_s=given.tokens_per_s,
        created_at=row.created_at.isoformat(),
        retrieval_ms=given.retrieval_ms,
        prompt_ms=given.prompt_ms,
        score=score,
        feedback=feedback,
        claims=list(given.claims),
    )


async def get_trace(conn: AsyncConnection, tenant: str, answer_id: str) -> TraceView | None:
    row = await row_by_id(conn, "expert.traces", tenant, answer_id, key="answer_id")
    return trace_view(row) if row else None


async def list_traces(conn: AsyncConnection, q: ListTraces) -> TracePage:
    """Newest first; `next` is "<created_at>|<answer_id>" of the last row when more remain."""
    where = ["tenant = :t", "expert_id = :e"]
    params: dict = {"t": q.tenant, "e": q.expert_id, "n": q.limit + 1}
    for value, clause, name in (
        (q.mode, "mode = :mode", "mode"),
        (q.kind, "kind = :kind", "kind"),
        (q.min_score, "score >= :lo", "lo"),
        (q.max_score, "score <= :hi", "hi"),
    ):
        if value is not None:  # a filter left out filters nothing
            where.append(clause)
            params[name] = value
    if q.rated is not None:
        where.append("rating IS NOT NULL" if q.rated else "rating IS NULL")
    if q.after:
        at, _, answer_id = q.after.partition("|")
        try:
            params.update(at=datetime.fromisoformat(at), after=answer_id)
        except ValueError as exc:
            raise DomainError(ErrorCode.INVALID, "after must be the `next` of a page") from exc
        where.append("(created_at, answer_id) < (:at, :after)")
    rows = list(
        await conn.execute(
            text(
                f"SELECT * FROM expert.traces WHERE {' AND '.join(where)}"
                " ORDER BY created_at DESC, answer_id DESC LIMIT :n"
            ),
            params,
        )
    )
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    cursor = f"{rows[-1].created_at.isoformat()}|{rows[-1].answer_id}" if more else None
    return TracePage(traces=[trace_view(r) for r in rows], next=cursor)


async def best_examples(
    conn: AsyncConnection, tenant: str, expert_id: str, limit: int = 8
) -> list[tuple[str, str]]:
    """The expert's best-rated answers (4 or 5 stars; a person's edit over the original),
    best first: the examples a prompt-tuned answer learns from."""
    rows = await conn.execute(
        text(
            "SELECT question, coalesce(feedback->>'edited_answer', answer) AS answer"
            " FROM expert.traces WHERE tenant = :t AND expert_id = :e AND kind = 'answer'"
            " AND rating >= 4 AND trace->>'refused' IS NULL"
            " ORDER BY rating DESC, score DESC NULLS LAST, created_at DESC LIMIT :n"
        ),
        {"t": tenant, "e": expert_id, "n": limit},
    )
    return [(r.question, r.answer) for r in rows]


async def answers_not_scored_by(
    conn: AsyncConnection, tenant: str, expert_id: str, version: str
) -> list[dict]:
    """The traces (as given) of the expert's answers that `version` of the scorer has not
    scored, oldest first."""
    rows = await conn.execute(
        text(
            "SELECT trace FROM expert.traces WHERE tenant = :t AND expert_id = :e"
            " AND (score_detail IS NULL OR score_detail->>'scorer_version' <> :v)"
            " ORDER BY created_at, answer_id"
        ),
        {"t": tenant, "e": expert_id, "v": version},
    )
    return [r.trace for r in rows]


# ---- deployments ----------------------------------------------------------------------------

CHOSEN = text(
    "SELECT adapter_id, files, provider_model FROM expert.versions"
    " WHERE tenant = :t AND adapter_id = :id AND expert_id = :e AND NOT deleted"
)
CURRENT = text(
    "SELECT adapter_id, files, provider_model FROM expert.deployments WHERE tenant = :t AND expert_id = :e"
)


async def deployed(
    conn: AsyncConnection, tenant: str, expert_id: str, chosen: str | None = None
) -> Row | None:
    """The adapter version deployed for the expert (None, or a row without an adapter_id:
    the base model), or its `chosen` version (None when it has no such live version)."""
    if chosen is None:
        return (await conn.execute(CURRENT, {"t": tenant, "e": expert_id})).first()
    return (await conn.execute(CHOSEN, {"t": tenant, "id": chosen, "e": expert_id})).first()
