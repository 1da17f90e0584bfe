"""Reading the benchmark's read model: runs (filtered by date and adapter), one run, the
dashboard's summary (time series, comparison table, alerts), the latest diagnosis's runs, and
what the reactors compare."""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.benchmark import (
    BASE,
    Alert,
    BenchmarkView,
    BenchSummary,
    Comparison,
    GetSummary,
    ListBenchmarks,
    Resources,
)
from runtime.db import row_by_id, struct_of
from runtime.moments import between
from services.benchmark import domain

ALERTS_SHOWN = 5
POINTS_SHOWN = 2000  # the newest finished runs the time series shows (a date filter reaches older)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def to_view(row) -> BenchmarkView:
    total = max(row.total, 1)
    return BenchmarkView(
        id=row.id,
        expert_id=row.expert_id,
        adapter_id=row.adapter_id,
        suite=row.suite,
        size=row.size,
        trigger=row.trigger,
        mode=row.mode,
        setup=row.setup,
        scorer_version=row.scorer_version,
        status=row.status,
        progress=1.0 if row.status == "succeeded" else round(row.answered / total, 4),
        answered=row.answered,
        total=row.total,
        composite_score=row.composite,
        avg_quality=row.avg_quality,
        per_domain=dict(row.per_domain or {}),
        avg_response_ms=row.avg_response_ms,
        tokens_per_s=row.tokens_per_s,
        early_termination_rate=row.early_termination_rate,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        vs_baseline_pct=row.vs_baseline_pct,
        vs_previous_pct=row.vs_previous_pct,
        within_noise=row.within_noise,
        resources=msgspec.convert(row.resources, Resources) if row.resources else None,
        error=row.error,
        started_at=_iso(row.started_at),
        finished_at=_iso(row.finished_at),
        queued_at=row.queued_at.isoformat(),
    )


def _filters(q, params: dict) -> list[str]:
    where = ["tenant = :t", "expert_id = :e"]
    if q.adapter_id is not None:
        where.append(_adapter_is(None if q.adapter_id == BASE else q.adapter_id))
        params["adapter"] = q.adapter_id
    between("queued_at", q.since, q.until, where, params)
    return where


async def runs(conn: AsyncConnection, q: ListBenchmarks) -> list[BenchmarkView]:
    params = {"t": q.tenant, "e": q.expert_id, "limit": q.limit}
    where = " AND ".join(_filters(q, params))
    sql = f"SELECT * FROM benchmark.runs WHERE {where} ORDER BY queued_at DESC LIMIT :limit"
    return [to_view(row) for row in (await conn.execute(text(sql), params)).all()]


async def run(conn: AsyncConnection, tenant: str, run_id: str) -> BenchmarkView | None:
    row = await row_by_id(conn, "benchmark.runs", tenant, run_id)
    return to_view(row) if row else None


ANY_ADAPTER = "*"  # `latest` of every adapter and the base model alike
LATEST_OF = (
    "SELECT * FROM benchmark.runs WHERE tenant = :t AND expert_id = :e AND status = 'succeeded'"
    " AND suite = :suite AND {adapter} AND id <> :not_id AND setup IS NULL"
    " ORDER BY finished_at DESC LIMIT 1"
)


def _adapter_is(adapter_id: str | None) -> str:
    if adapter_id == ANY_ADAPTER:
        return "TRUE"
    return "adapter_id IS NULL" if adapter_id is None else "adapter_id = :adapter"


async def latest(
    conn: AsyncConnection, tenant: str, expert_id: str, suite: str, adapter_id: str | None,
    *, not_id: str = "",
) -> BenchmarkView | None:  # fmt: skip
    """The newest finished run of one adapter (None: the base model, `ANY_ADAPTER`: any) on
    one suite, but for the run `not_id`; diagnosis runs do not count."""
    params = {"t": tenant, "e": expert_id, "suite": suite, "adapter": adapter_id, "not_id": not_id}
    sql = LATEST_OF.format(adapter=_adapter_is(adapter_id))
    row = (await conn.execute(text(sql), params)).first()
    return to_view(row) if row else None


async def pending(
    conn: AsyncConnection, tenant: str, expert_id: str, suite: str, adapter_id: str | None
) -> bool:
    """Whether a run of that adapter on that suite is still queued or running."""
    sql = (
        "SELECT 1 FROM benchmark.runs WHERE tenant = :t AND expert_id = :e AND suite = :suite"
        f" AND {_adapter_is(adapter_id)} AND status IN ('queued', 'running') LIMIT 1"
    )
    params = {"t": tenant, "e": expert_id, "suite": suite, "adapter": adapter_id}
    return (await conn.execute(text(sql), params)).first() is not None


async def schedules(conn: AsyncConnection) -> list[tuple[str, str, str, str]]:
    """(tenant, expert, cron, suite) of every expert with a schedule on."""
    rows = await conn.execute(
        text("SELECT * FROM benchmark.settings WHERE schedule <> 'off' ORDER BY 1, 2")
    )
    return [
        (r.tenant, r.expert_id, r.schedule, "expert" if r.expert_questions else "builtin")
        for r in rows.all()
    ]


async def summary(conn: AsyncConnection, q: GetSummary, bench, active: str | None) -> BenchSummary:
    params = {"t": q.tenant, "e": q.expert_id, "shown": POINTS_SHOWN}
    where = " AND ".join([*_filters(q, params), "status = 'succeeded'"])
    sql = f"SELECT * FROM benchmark.runs WHERE {where} ORDER BY finished_at DESC LIMIT :shown"
    rows = (await conn.execute(text(sql), params)).all()
    points = [to_view(row) for row in reversed(rows)]
    suite = points[-1].suite if points else "builtin"
    current = await latest(conn, q.tenant, q.expert_id, suite, active)
    others = [
        p for p in reversed(points) if p.suite == suite and p.adapter_id not in (None, active)
    ]
    comparison = [
        Comparison(label="active", adapter_id=active, run=current),
        Comparison(
            label="previous",
            adapter_id=others[0].adapter_id if others else None,
            run=others[0] if others else None,
        ),
        Comparison(
            label="base model",
            adapter_id=None,
            run=await latest(conn, q.tenant, q.expert_id, suite, None),
        ),
    ]
    return BenchSummary(
        expert_id=q.expert_id,
        settings=bench.settings,
        points=points,
        comparison=comparison,
        alerts=await alerts(conn, q.tenant, q.expert_id),
        questions={name: len(asked) for name, asked in domain.suites(bench).items()},
    )


ALERTS = text(
    "SELECT * FROM benchmark.alerts WHERE tenant = :t AND expert_id = :e ORDER BY seq DESC LIMIT :n"
)


async def alerts(conn: AsyncConnection, tenant: str, expert_id: str) -> list[Alert]:
    """The newest of what a person should hear about the expert's runs."""
    rows = await conn.execute(ALERTS, {"t": tenant, "e": expert_id, "n": ALERTS_SHOWN})
    return [struct_of(Alert, r) for r in rows.all()]


DIAGNOSIS_RUNS = text(
    "SELECT id, setup, status, composite, avg_quality FROM benchmark.runs"
    " WHERE tenant = :t AND expert_id = :e AND diagnosis_id = ("
    "  SELECT diagnosis_id FROM benchmark.runs WHERE tenant = :t AND expert_id = :e"
    "  AND diagnosis_id IS NOT NULL ORDER BY queued_at DESC LIMIT 1)"
)


async def diagnosis_runs(conn: AsyncConnection, tenant: str, expert_id: str) -> list:
    """The runs of the expert's latest diagnosis (none before its first)."""
    return (await conn.execute(DIAGNOSIS_RUNS, {"t": tenant, "e": expert_id})).all()
