"""The benchmark's read model `benchmark.runs`, rebuilt from the BENCHMARK log.

- `runs`: one row per run — what it measured, its progress and, once finished, its metrics.
- `alerts`: per expert, what a person should hear about: a promotion made or held back, a
  regression.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import text

from contracts.benchmark import (
    STREAM,
    BenchConfigured,
    BenchErased,
    BenchmarkCancelled,
    BenchmarkCompleted,
    BenchmarkFailed,
    BenchmarkQueued,
    BenchmarkRescored,
    BenchmarkStarted,
    ExpertSetGenerated,
    PromotionDecided,
    QuestionScored,
    RegressionDetected,
)
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

_json = msgspec.json.Encoder()

RUNS_TABLE = (
    "CREATE TABLE IF NOT EXISTS runs ("
    " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL, adapter_id text,"
    " suite text NOT NULL, size text NOT NULL, trigger text NOT NULL, mode text, setup text,"
    " diagnosis_id text, candidate boolean NOT NULL, status text NOT NULL,"
    " answered int NOT NULL DEFAULT 0, total int NOT NULL, scorer_version int NOT NULL DEFAULT 1,"
    " composite double precision, avg_quality double precision, per_domain jsonb,"
    " avg_response_ms double precision, tokens_per_s double precision,"
    " early_termination_rate double precision, ci_low double precision,"
    " ci_high double precision, vs_baseline_pct double precision,"
    " vs_previous_pct double precision, within_noise boolean NOT NULL DEFAULT false,"
    " resources jsonb, error text, queued_at timestamptz NOT NULL, started_at timestamptz,"
    " finished_at timestamptz, PRIMARY KEY (tenant, id))"
)
ALERTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS alerts ("
    " tenant text NOT NULL, seq bigint NOT NULL, expert_id text NOT NULL, kind text NOT NULL,"
    " sentence text NOT NULL, adapter_id text, run_id text, rollback_to text,"
    " at timestamptz NOT NULL, PRIMARY KEY (tenant, seq))"
)
SETTINGS_TABLE = (
    "CREATE TABLE IF NOT EXISTS settings ("
    " tenant text NOT NULL, expert_id text NOT NULL, schedule text NOT NULL DEFAULT 'off',"
    " settings jsonb, expert_questions int NOT NULL DEFAULT 0,"
    " PRIMARY KEY (tenant, expert_id))"
)

CONFIGURED = text(
    "INSERT INTO settings (tenant, expert_id, schedule, settings)"
    " VALUES (:t, :e, :schedule, CAST(:settings AS jsonb)) ON CONFLICT (tenant, expert_id)"
    " DO UPDATE SET schedule = EXCLUDED.schedule, settings = EXCLUDED.settings"
)
GENERATED = text(
    "INSERT INTO settings (tenant, expert_id, expert_questions) VALUES (:t, :e, :n)"
    " ON CONFLICT (tenant, expert_id) DO UPDATE SET expert_questions = EXCLUDED.expert_questions"
)
QUEUED = text(
    "INSERT INTO runs (tenant, id, expert_id, adapter_id, suite, size, trigger, mode, setup,"
    " diagnosis_id, candidate, status, total, queued_at) VALUES (:t, :id, :e, :adapter,"
    " :suite, :size, :trigger, :mode, :setup, :diagnosis, :candidate, 'queued', :total, :at)"
    " ON CONFLICT DO NOTHING"
)
STARTED = text(
    "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, :at)"
    " WHERE tenant = :t AND id = :id AND status IN ('queued', 'running')"
)
SCORED = text(
    "UPDATE runs SET answered = answered + 1, scorer_version = :version"
    " WHERE tenant = :t AND id = :id AND status IN ('queued', 'running')"
)
COMPLETED = text(
    "UPDATE runs SET status = 'succeeded', composite = :composite, avg_quality = :quality,"
    " per_domain = CAST(:domains AS jsonb), avg_response_ms = :ms, tokens_per_s = :tps,"
    " early_termination_rate = :cut, ci_low = :low, ci_high = :high,"
    " vs_baseline_pct = :baseline, vs_previous_pct = :previous, within_noise = :noise,"
    " resources = CAST(:resources AS jsonb), answered = :answered, finished_at = :at"
    " WHERE tenant = :t AND id = :id"
)
RESCORED = text(
    "UPDATE runs SET scorer_version = :version, composite = :composite, avg_quality = :quality,"
    " per_domain = CAST(:domains AS jsonb), ci_low = :low, ci_high = :high"
    " WHERE tenant = :t AND id = :id"
)
ENDED = text(
    "UPDATE runs SET status = :status, error = :error, finished_at = :at"
    " WHERE tenant = :t AND id = :id AND status IN ('queued', 'running')"
)
ALERTED = text(
    "INSERT INTO alerts (tenant, seq, expert_id, kind, sentence, adapter_id, run_id,"
    " rollback_to, at) VALUES (:t, :seq, :e, :kind, :sentence, :adapter, :run, :rollback, :at)"
    " ON CONFLICT DO NOTHING"
)


def metric_params(m) -> dict:
    return {
        "composite": m.composite,
        "quality": m.avg_quality,
        "domains": _json.encode(m.per_domain).decode(),
        "low": m.ci_low,
        "high": m.ci_high,
    }


ERASED = tuple(
    text(f"DELETE FROM {table} WHERE tenant = :t AND expert_id = :e")
    for table in ("runs", "alerts", "settings")
)


class RunsProjection(Tables):
    name = "benchmark.runs"
    streams = (STREAM,)
    announce = True
    table_ddl = (RUNS_TABLE, ALERTS_TABLE, SETTINGS_TABLE)
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS runs_by_expert ON runs (tenant, expert_id, queued_at)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "at": rec.at}
        match rec.event:
            case BenchmarkQueued() as ev:
                out.add(QUEUED, {
                    **key, "id": ev.run_id, "e": ev.expert_id, "adapter": ev.adapter_id,
                    "suite": ev.suite, "size": ev.size, "trigger": ev.trigger, "mode": ev.mode,
                    "setup": ev.setup, "diagnosis": ev.diagnosis_id, "candidate": ev.candidate,
                    "total": len(ev.questions),
                })  # fmt: skip
            case BenchConfigured() as ev:
                out.add(CONFIGURED, {"t": rec.tenant, "e": ev.expert_id,
                                     "schedule": ev.settings.schedule,
                                     "settings": _json.encode(ev.settings).decode()})  # fmt: skip
            case ExpertSetGenerated() as ev:
                out.add(GENERATED, {"t": rec.tenant, "e": ev.expert_id, "n": len(ev.questions)})
            case BenchmarkStarted() as ev:
                out.add(STARTED, {**key, "id": ev.run_id})
            case QuestionScored() as ev:
                out.add(SCORED, {**key, "id": ev.run_id, "version": ev.result.scorer_version})
            case BenchmarkCompleted() as ev:
                m = ev.metrics
                out.add(COMPLETED, {
                    **key, **metric_params(m), "id": ev.run_id, "ms": m.avg_response_ms,
                    "tps": m.tokens_per_s, "cut": m.early_termination_rate,
                    "baseline": ev.vs_baseline_pct, "previous": ev.vs_previous_pct,
                    "noise": ev.within_noise, "answered": m.questions,
                    "resources": _json.encode(m.resources).decode(),
                })  # fmt: skip
            case BenchmarkRescored() as ev:
                out.add(RESCORED, {**key, **metric_params(ev.metrics), "id": ev.run_id,
                                   "version": ev.scorer_version})  # fmt: skip
            case BenchmarkFailed() as ev:
                out.add(ENDED, {**key, "id": ev.run_id, "status": "failed", "error": ev.reason})
            case BenchmarkCancelled() as ev:
                out.add(ENDED, {**key, "id": ev.run_id, "status": "cancelled", "error": None})
            case PromotionDecided() as ev:
                out.add(ALERTED, {
                    **key, "seq": rec.seq, "e": ev.expert_id,
                    "kind": "promoted" if ev.promoted else "held_back", "sentence": ev.reason,
                    "adapter": ev.adapter_id, "run": ev.run_id, "rollback": None,
                })  # fmt: skip
            case BenchErased() as ev:
                for statement in ERASED:
                    out.add(statement, {"t": rec.tenant, "e": ev.expert_id})
            case RegressionDetected() as ev:
                sentence = (
                    f"The active version scored {abs(ev.delta_points):.1f} points lower than"
                    " its run before: roll back if answers got worse."
                )
                out.add(ALERTED, {
                    **key, "seq": rec.seq, "e": ev.expert_id, "kind": "regression",
                    "sentence": sentence, "adapter": ev.adapter_id, "run": ev.run_id,
                    "rollback": ev.rollback_to,
                })  # fmt: skip
