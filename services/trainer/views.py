"""Reading the trainer's read models: runs, their place in the queue, an expert's settings
and the data waiting to be trained on."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.trainer import (
    AdapterFile,
    Estimate,
    LossPoint,
    RunMetrics,
    RunView,
    TrainConfig,
)
from runtime.db import row_by_id


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def to_view(row, queue_position: int | None = None) -> RunView:
    return RunView(
        id=row.id,
        expert_id=row.expert_id,
        number=row.number,
        dataset_id=row.dataset_id,
        backend=row.backend,
        base_model=row.base_model,
        status=row.status,
        trigger=row.trigger,
        step=row.step,
        total_steps=row.total_steps,
        loss=row.loss,
        eval_loss=row.eval_loss,
        learning_rate=row.learning_rate,
        eta_seconds=row.eta_seconds,
        stage=row.stage,
        adapter_id=row.adapter_id,
        provider_model=row.provider_model,
        error=row.error,
        attempt=row.attempt,
        resumed_from_step=row.resumed_from_step,
        queue_position=queue_position,
        config=msgspec.convert(row.config, TrainConfig),
        estimate=msgspec.convert(row.estimate, Estimate) if row.estimate else None,
        metrics=msgspec.convert(row.metrics, RunMetrics) if row.metrics else None,
        files=msgspec.convert(row.files or [], list[AdapterFile]),
        history=msgspec.convert(row.history or [], list[LossPoint]),
        cost_usd=row.cost_usd,
        queued_at=row.queued_at.isoformat(),
        started_at=_iso(row.started_at),
        finished_at=_iso(row.finished_at),
    )


async def queue_position(conn: AsyncConnection, tenant: str, row) -> int | None:
    """1 = the next run a free worker takes (runs are taken in the order they were queued)."""
    if row.status != "queued":
        return None
    ahead = await conn.scalar(
        text(
            "SELECT count(*) FROM trainer.runs WHERE status = 'queued'"
            " AND (queued_at, id) < (:at, :id)"
        ),
        {"at": row.queued_at, "id": row.id},
    )
    return int(ahead or 0) + 1


async def get_run(conn: AsyncConnection, tenant: str, run_id: str) -> RunView | None:
    row = await row_by_id(conn, "trainer.runs", tenant, run_id)
    return to_view(row, await queue_position(conn, tenant, row)) if row else None


async def list_runs(
    conn: AsyncConnection, tenant: str, expert_id: str | None, limit: int
) -> list[RunView]:
    where = "tenant = :t" + (" AND expert_id = :e" if expert_id else "")
    rows = (
        await conn.execute(
            text(f"SELECT * FROM trainer.runs WHERE {where} ORDER BY queued_at DESC LIMIT :n"),
            {"t": tenant, "e": expert_id, "n": limit},
        )
    ).all()
    return [to_view(r, await queue_position(conn, tenant, r)) for r in rows]


async def active_run(conn: AsyncConnection, tenant: str, expert_id: str) -> str | None:
    """The expert's oldest run still queued or running, if any."""
    return next(iter(await active_runs(conn, tenant, expert_id)), None)


async def active_runs(conn: AsyncConnection, tenant: str, expert_id: str) -> list[str]:
    rows = await conn.scalars(
        text(
            "SELECT id FROM trainer.runs WHERE tenant = :t AND expert_id = :e"
            " AND status IN ('queued', 'running') ORDER BY queued_at"
        ),
        {"t": tenant, "e": expert_id},
    )
    return list(rows)


@dataclass(frozen=True)
class TrainingData:
    """Where an expert's data stands for its next run: what the schedule decides on and the
    settings page shows."""

    active_run: str | None  # its oldest run still queued or running
    dataset_id: str | None  # its newest ready dataset version
    examples: int  # the examples of that version
    trained: int  # the examples of the version its latest run (not failed or stopped) used

    @property
    def fresh(self) -> int:
        """Examples that arrived since the last run (negative when a smaller version came)."""
        return self.examples - self.trained


async def training_data(conn: AsyncConnection, tenant: str, expert_id: str) -> TrainingData:
    newest = await newest_dataset(conn, tenant, expert_id)
    return TrainingData(
        active_run=await active_run(conn, tenant, expert_id),
        dataset_id=newest.id if newest else None,
        examples=newest.examples if newest else 0,
        trained=await examples_of_last_run(conn, tenant, expert_id),
    )


async def settings_of(conn: AsyncConnection, tenant: str, expert_id: str):
    """The expert's settings row (its last skipped tick), or None, and its training data."""
    row = (
        await conn.execute(
            text("SELECT * FROM trainer.settings WHERE tenant = :t AND expert_id = :e"),
            {"t": tenant, "e": expert_id},
        )
    ).first()
    return row, await training_data(conn, tenant, expert_id)


async def newest_dataset(conn: AsyncConnection, tenant: str, expert_id: str):
    """(dataset id, examples) of the expert's newest ready version, or None."""
    return (
        await conn.execute(
            text(
                "SELECT id, examples FROM trainer.datasets WHERE tenant = :t AND expert_id = :e"
                " ORDER BY built_at DESC, id LIMIT 1"
            ),
            {"t": tenant, "e": expert_id},
        )
    ).first()


async def examples_of_last_run(conn: AsyncConnection, tenant: str, expert_id: str) -> int:
    """Examples (train + val) of the dataset the expert's latest run that did not fail or stop
    trained on: what 'new since the last run' is counted from."""
    value = await conn.scalar(
        text(
            "SELECT d.examples FROM trainer.runs r JOIN trainer.datasets d"
            " ON d.tenant = r.tenant AND d.id = r.dataset_id"
            " WHERE r.tenant = :t AND r.expert_id = :e"
            " AND r.status IN ('queued', 'running', 'succeeded')"
            " ORDER BY r.number DESC LIMIT 1"
        ),
        {"t": tenant, "e": expert_id},
    )
    return int(value or 0)


async def experts_with_data(conn: AsyncConnection) -> list[tuple[str, str]]:
    """(tenant, expert id) of every expert with a ready dataset: who a tick considers."""
    rows = await conn.execute(
        text("SELECT DISTINCT tenant, expert_id FROM trainer.datasets ORDER BY 1, 2")
    )
    return [(r.tenant, r.expert_id) for r in rows]


async def measured_tokens_per_s(conn: AsyncConnection, base_model: str, backend: str):
    """Training speed of the latest successful local run of this model and backend here:
    what a local estimate's duration is worked out from."""
    value = await conn.scalar(
        text(
            "SELECT (metrics->>'tokens_per_s')::float FROM trainer.runs"
            " WHERE status = 'succeeded' AND base_model = :m AND backend = :b"
            " AND metrics ? 'tokens_per_s' ORDER BY finished_at DESC LIMIT 1"
        ),
        {"m": base_model, "b": backend},
    )
    return float(value) if value else None
