"""The trainer's read models, rebuilt from the log.

- `trainer.runs` (TRAINER): one row per run — status, progress, the loss history the chart
  draws, the adapter it made — and one row per expert's settings with the scheduler's
  latest skipped tick.
- `trainer.datasets` (DATASET): the ready dataset versions and their example counts, which
  the scheduler and the dashboard read (the dataset service's own view is its own).
"""

from __future__ import annotations

from sqlalchemy import text

from contracts.dataset import STREAM as DATASETS
from contracts.dataset import DatasetBuilt, DatasetRevised, DatasetsErased
from contracts.trainer import (
    STREAM,
    AdapterTrained,
    FinetuneConfigured,
    LossPoint,
    RunCancelled,
    RunFailed,
    RunProgressed,
    RunQueued,
    RunsErased,
    RunStarted,
    ScheduledRunSkipped,
)
from runtime.codec import json_text
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

HISTORY_POINTS = 2000  # loss points kept per run for the chart

RUNS_TABLE = (
    "CREATE TABLE IF NOT EXISTS runs ("
    " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL, number int NOT NULL,"
    " dataset_id text NOT NULL, backend text NOT NULL, base_model text NOT NULL,"
    " trigger text NOT NULL, status text NOT NULL, config jsonb NOT NULL, estimate jsonb,"
    " train_examples int NOT NULL, step int NOT NULL DEFAULT 0, total_steps int NOT NULL,"
    " loss double precision, eval_loss double precision, learning_rate double precision,"
    " eta_seconds int, stage text NOT NULL DEFAULT '', attempt int NOT NULL DEFAULT 0,"
    " resumed_from_step int NOT NULL DEFAULT 0, history jsonb NOT NULL DEFAULT '[]',"
    " adapter_id text, provider_model text, files jsonb, metrics jsonb, cost_usd double precision,"
    " error text, queued_at timestamptz NOT NULL, started_at timestamptz,"
    " finished_at timestamptz, updated_at timestamptz NOT NULL, PRIMARY KEY (tenant, id))"
)
SETTINGS_TABLE = (
    "CREATE TABLE IF NOT EXISTS settings ("
    " tenant text NOT NULL, expert_id text NOT NULL, config jsonb, hosted jsonb,"
    " budget_usd double precision, last_skip text, last_skip_at timestamptz,"
    " PRIMARY KEY (tenant, expert_id))"
)
DATASETS_TABLE = (
    "CREATE TABLE IF NOT EXISTS datasets ("
    " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL, version int NOT NULL,"
    " examples int NOT NULL, built_at timestamptz NOT NULL, PRIMARY KEY (tenant, id))"
)

QUEUED = text(
    "INSERT INTO runs (tenant, id, expert_id, number, dataset_id, backend, base_model, trigger,"
    " status, config, estimate, train_examples, total_steps, queued_at, updated_at)"
    " VALUES (:t, :id, :e, :n, :d, :b, :m, :trigger, 'queued', CAST(:config AS jsonb),"
    " CAST(:estimate AS jsonb), :train, :total, :at, :at) ON CONFLICT DO NOTHING"
)
STARTED = text(
    "UPDATE runs SET status = 'running', attempt = :attempt, resumed_from_step = :resumed,"
    " step = GREATEST(step, :resumed), stage = '', started_at = COALESCE(started_at, :at),"
    " updated_at = :at WHERE tenant = :t AND id = :id AND status IN ('queued', 'running')"
)
PROGRESSED = text(
    "UPDATE runs SET step = :step, total_steps = :total, loss = COALESCE(:loss, loss),"
    " eval_loss = COALESCE(:eval_loss, eval_loss), learning_rate = :lr, eta_seconds = :eta,"
    " stage = :stage, updated_at = :at,"
    " history = CASE WHEN jsonb_array_length(history) >= CAST(:cap AS int) THEN history"
    " ELSE history || CAST(:points AS jsonb) END"
    " WHERE tenant = :t AND id = :id AND status = 'running'"
)
TRAINED = text(
    "UPDATE runs SET status = 'succeeded', adapter_id = :adapter, provider_model = :provider,"
    " files = CAST(:files AS jsonb), metrics = CAST(:metrics AS jsonb), cost_usd = :cost,"
    " eta_seconds = 0, finished_at = :at, updated_at = :at WHERE tenant = :t AND id = :id"
)
ENDED = text(
    "UPDATE runs SET status = :status, error = :error, eta_seconds = NULL, finished_at = :at,"
    " updated_at = :at WHERE tenant = :t AND id = :id AND status IN ('queued', 'running')"
)
CONFIGURED = text(
    "INSERT INTO settings (tenant, expert_id, config, hosted, budget_usd)"
    " VALUES (:t, :e, CAST(:config AS jsonb), CAST(:hosted AS jsonb), :budget)"
    " ON CONFLICT (tenant, expert_id) DO UPDATE SET config = EXCLUDED.config,"
    " hosted = EXCLUDED.hosted, budget_usd = EXCLUDED.budget_usd"
)
SKIPPED = text(
    "INSERT INTO settings (tenant, expert_id, last_skip, last_skip_at)"
    " VALUES (:t, :e, :why, :at) ON CONFLICT (tenant, expert_id) DO UPDATE"
    " SET last_skip = EXCLUDED.last_skip, last_skip_at = EXCLUDED.last_skip_at"
)
DATASET_READY = text(
    "INSERT INTO datasets (tenant, id, expert_id, version, examples, built_at)"
    " VALUES (:t, :id, :e, :v, :n, :at) ON CONFLICT DO NOTHING"
)


class RunsProjection(Tables):
    name = "trainer.runs"
    streams = (STREAM,)
    announce = True
    table_ddl = (RUNS_TABLE, SETTINGS_TABLE)
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS runs_by_expert ON runs (tenant, expert_id, number)",
        "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, queued_at)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "at": rec.at}
        match rec.event:
            case RunQueued() as ev:
                out.add(
                    QUEUED,
                    {
                        **key,
                        "id": ev.run_id,
                        "e": ev.expert_id,
                        "n": ev.number,
                        "d": ev.dataset_id,
                        "b": ev.backend,
                        "m": ev.base_model,
                        "trigger": ev.trigger,
                        "config": json_text(ev.config),
                        "estimate": json_text(ev.estimate),
                        "train": ev.estimate.train_examples,
                        "total": ev.estimate.total_steps,
                    },
                )
            case RunStarted() as ev:
                out.add(
                    STARTED,
                    {**key, "id": ev.run_id, "attempt": ev.attempt,
                     "resumed": ev.resumed_from_step},
                )  # fmt: skip
            case RunProgressed() as ev:
                points = list(ev.points)
                if not points and (ev.loss is not None or ev.eval_loss is not None):
                    points = [LossPoint(step=ev.step, loss=ev.loss, eval_loss=ev.eval_loss)]
                out.add(
                    PROGRESSED,
                    {
                        **key,
                        "id": ev.run_id,
                        "step": ev.step,
                        "total": ev.total_steps,
                        "loss": ev.loss,
                        "eval_loss": ev.eval_loss,
                        "lr": ev.learning_rate,
                        "eta": ev.eta_seconds,
                        "stage": ev.stage,
                        "points": json_text(points),
                        "cap": HISTORY_POINTS,
                    },
                )
            case AdapterTrained() as ev:
                out.add(
                    TRAINED,
                    {
                        **key,
                        "id": ev.run_id,
                        "adapter": ev.adapter_id,
                        "provider": ev.provider_model,
                        "files": json_text(ev.files),
                        "metrics": json_text(ev.metrics),
                        "cost": ev.cost_usd,
                    },
                )
            case RunFailed() as ev:
                out.add(ENDED, {**key, "id": ev.run_id, "status": "failed", "error": ev.reason})
            case RunCancelled() as ev:
                out.add(ENDED, {**key, "id": ev.run_id, "status": "cancelled", "error": None})
            case FinetuneConfigured() as ev:
                out.add(
                    CONFIGURED,
                    {
                        "t": rec.tenant,
                        "e": ev.expert_id,
                        "config": json_text(ev.config),
                        "hosted": json_text(ev.hosted),
                        "budget": ev.budget_usd,
                    },
                )
            case ScheduledRunSkipped() as ev:
                out.add(SKIPPED, {**key, "e": ev.expert_id, "why": ev.reason})
            case RunsErased() as ev:  # the expert was deleted: its runs and settings go too
                for statement in RUNS_ERASED:
                    out.add(statement, {"t": rec.tenant, "e": ev.expert_id})


RUNS_ERASED = tuple(
    text(f"DELETE FROM {table} WHERE tenant = :t AND expert_id = :e")
    for table in ("runs", "settings")
)
DATASETS_ERASED = text("DELETE FROM datasets WHERE tenant = :t AND expert_id = :e")


class DatasetsProjection(Tables):
    """Ready dataset versions per expert: what a scheduled run would train on."""

    name = "trainer.datasets"
    streams = (DATASETS,)
    announce = False
    table_ddl = (DATASETS_TABLE,)
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS datasets_newest ON datasets (tenant, expert_id, built_at DESC)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case DatasetBuilt() as ev:
                n = ev.counts.train + ev.counts.val
                out.add(
                    DATASET_READY,
                    {"t": rec.tenant, "id": ev.dataset_id, "e": ev.expert_id, "v": 0, "n": n,
                     "at": rec.at},
                )  # fmt: skip
            case DatasetRevised() as ev:
                n = ev.counts.train + ev.counts.val
                out.add(
                    DATASET_READY,
                    {"t": rec.tenant, "id": ev.dataset_id, "e": ev.expert_id, "v": ev.version,
                     "n": n, "at": rec.at},
                )  # fmt: skip
            case DatasetsErased() as ev:  # the expert was deleted: nothing left to train on
                out.add(DATASETS_ERASED, {"t": rec.tenant, "e": ev.expert_id})
