"""The traces read model: one row per answer or draft, with its latest score and feedback,
rebuilt from the EXPERT stream; and the queries over it (filters, pages, best examples)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.answers import (
    AnswerGiven,
    AnswerScored,
    Citation,
    Feedback,
    FeedbackGiven,
    GivenSource,
    ListTraces,
    ScoreView,
    TracePage,
    TraceView,
)
from contracts.base import DomainError, ErrorCode
from contracts.expert import ExpertDeleted
from runtime.eventstore import RecordedEvent
from runtime.projection import Writes

_json = msgspec.json.Encoder()

GIVEN = text(
    "INSERT INTO traces (tenant, answer_id, expert_id, kind, mode, question, answer, trace,"
    " created_at) VALUES (:t, :id, :e, :kind, :mode, :q, :a, CAST(:trace AS jsonb), :at)"
    " ON CONFLICT DO NOTHING"
)
SCORED = text(
    "UPDATE traces SET score = :score, score_detail = CAST(:detail AS jsonb)"
    " WHERE tenant = :t AND answer_id = :id"
)
FEEDBACK = text(
    "UPDATE traces SET rating = :rating, feedback = CAST(:fb AS jsonb),"
    " feedback_count = feedback_count + 1, feedback_at = :at"
    " WHERE tenant = :t AND answer_id = :id"
)
EXPERT_GONE = text("DELETE FROM traces WHERE tenant = :t AND expert_id = :e")


def _encode(value) -> str:
    return _json.encode(value).decode()


class TracesProjection:
    name = "expert.traces"
    streams = ("EXPERT",)
    announce = False  # the experts projection announces the EXPERT stream's events

    async def create(self, conn: AsyncConnection) -> None:
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS traces ("
                " tenant text NOT NULL, answer_id text NOT NULL, expert_id text NOT NULL,"
                " kind text NOT NULL, mode text NOT NULL, question text NOT NULL,"
                " answer text NOT NULL, trace jsonb NOT NULL, created_at timestamptz NOT NULL,"
                " score real, score_detail jsonb, rating int, feedback jsonb,"
                " feedback_count int NOT NULL DEFAULT 0, feedback_at timestamptz,"
                " PRIMARY KEY (tenant, answer_id))"
            )
        )

    async def indexes(self, conn: AsyncConnection) -> None:
        await conn.execute(
            text(
                "CREATE INDEX IF NOT EXISTS traces_by_expert"
                " ON traces (tenant, expert_id, created_at DESC, answer_id DESC)"
            )
        )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "id": rec.aggregate_id, "at": rec.at}
        match rec.event:
            case AnswerGiven() as ev:
                out.add(
                    GIVEN,
                    {
                        **key,
                        "e": ev.expert_id,
                        "kind": ev.kind,
                        "mode": ev.mode,
                        "q": ev.question,
                        "a": ev.answer,
                        "trace": _encode(ev),
                    },
                )
            case AnswerScored() as ev:
                detail = ScoreView(
                    score=ev.score,
                    groundedness=ev.groundedness,
                    citation_validity=ev.citation_validity,
                    sanity=ev.sanity,
                    refusal=ev.refusal,
                    reasons=ev.reasons,
                    scorer_version=ev.scorer_version,
                )
                out.add(SCORED, {**key, "score": ev.score, "detail": _encode(detail)})
            case FeedbackGiven() as ev:
                feedback = {
                    "rating": ev.rating,
                    "edited_answer": ev.edited_answer,
                    "tags": ev.tags,
                    "comment": ev.comment,
                }
                out.add(FEEDBACK, {**key, "rating": ev.rating, "fb": _encode(feedback)})
            case ExpertDeleted(expert_id=expert_id):
                out.add(EXPERT_GONE, {"t": rec.tenant, "e": expert_id})


def to_view(row) -> TraceView:
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
    )


async def get_trace(conn: AsyncConnection, tenant: str, answer_id: str) -> TraceView | None:
    row = (
        await conn.execute(
            text("SELECT * FROM expert.traces WHERE tenant = :t AND answer_id = :id"),
            {"t": tenant, "id": answer_id},
        )
    ).first()
    return to_view(row) if row else None


async def list_traces(conn: AsyncConnection, q: ListTraces) -> TracePage:
    """Newest first; `next` is "<created_at>|<answer_id>" of the last row when more remain."""
    where = ["tenant = :t", "expert_id = :e"]
    params: dict = {"t": q.tenant, "e": q.expert_id, "n": q.limit + 1}
    if q.mode is not None:
        where.append("mode = :mode")
        params["mode"] = q.mode
    if q.kind is not None:
        where.append("kind = :kind")
        params["kind"] = q.kind
    if q.rated is not None:
        where.append("rating IS NOT NULL" if q.rated else "rating IS NULL")
    if q.min_score is not None:
        where.append("score >= :lo")
        params["lo"] = q.min_score
    if q.max_score is not None:
        where.append("score <= :hi")
        params["hi"] = q.max_score
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
    return TracePage(traces=[to_view(r) for r in rows], next=cursor)


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
