"""The registry's read model `registry.versions`, rebuilt from the REGISTRY log.

- `adapters`: one row per version ever registered (a deleted one keeps its row, marked), with
  its tags and integrity state.
- `deployments`: per expert, the active version (NULL = the base model) and the deployment's
  version number.
- `audit`: one row per event of the log — every registration, import, activation, rollback,
  tag change, check and deletion, and every refusal — which is the audit trail.
"""

from __future__ import annotations

from sqlalchemy import text

from contracts.registry import (
    STREAM,
    AdapterActivated,
    AdapterChecked,
    AdapterDeleted,
    AdapterRegistered,
    AdapterRolledBack,
    AdapterTagged,
    RegistryActionRefused,
    VersionsErased,
)
from runtime.codec import json_text
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

MB = 1024 * 1024

ADAPTERS_TABLE = (
    "CREATE TABLE IF NOT EXISTS adapters ("
    " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL, source text NOT NULL,"
    " created_at text NOT NULL, registered_at timestamptz NOT NULL, base_model text NOT NULL,"
    " backend text NOT NULL, dataset_id text, run_id text, config jsonb, metrics jsonb NOT NULL,"
    " traces_used int NOT NULL, size_bytes bigint NOT NULL, sha256 text, files jsonb NOT NULL,"
    " provider_model text, filename text, tags jsonb NOT NULL, valid boolean NOT NULL,"
    " problems jsonb NOT NULL, deleted_at timestamptz, PRIMARY KEY (tenant, id))"
)
DEPLOYMENTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS deployments ("
    " tenant text NOT NULL, expert_id text NOT NULL, adapter_id text, version int NOT NULL,"
    " activated_at timestamptz NOT NULL, by text NOT NULL, PRIMARY KEY (tenant, expert_id))"
)
AUDIT_TABLE = (
    "CREATE TABLE IF NOT EXISTS audit ("
    " tenant text NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL,"
    " expert_id text NOT NULL, action text NOT NULL, outcome text NOT NULL, adapter_id text,"
    " previous_adapter_id text, by text NOT NULL, reason text NOT NULL,"
    " PRIMARY KEY (tenant, seq))"
)

REGISTERED = text(
    "INSERT INTO adapters (tenant, id, expert_id, source, created_at, registered_at,"
    " base_model, backend, dataset_id, run_id, config, metrics, traces_used, size_bytes,"
    " sha256, files, provider_model, filename, tags, valid, problems)"
    " VALUES (:t, :id, :e, :source, :created, :at, :base, :backend, :dataset, :run,"
    " CAST(:config AS jsonb), CAST(:metrics AS jsonb), :traces, :size, :sha,"
    " CAST(:files AS jsonb), :provider, :filename, CAST(:tags AS jsonb), :valid,"
    " CAST(:problems AS jsonb)) ON CONFLICT DO NOTHING"
)
TAGGED = text(
    "UPDATE adapters SET tags = CAST(:tags AS jsonb) WHERE tenant = :t AND id = :id"
)  # fmt: skip
CHECKED = text(
    "UPDATE adapters SET valid = :valid, problems = CAST(:problems AS jsonb)"
    " WHERE tenant = :t AND id = :id"
)
DELETED = text("UPDATE adapters SET deleted_at = :at WHERE tenant = :t AND id = :id")
DEPLOYED = text(
    "INSERT INTO deployments (tenant, expert_id, adapter_id, version, activated_at, by)"
    " VALUES (:t, :e, :adapter, :version, :at, :by) ON CONFLICT (tenant, expert_id) DO UPDATE"
    " SET adapter_id = EXCLUDED.adapter_id, version = EXCLUDED.version,"
    " activated_at = EXCLUDED.activated_at, by = EXCLUDED.by"
    " WHERE deployments.version < EXCLUDED.version"
)
AUDITED = text(
    "INSERT INTO audit (tenant, seq, at, expert_id, action, outcome, adapter_id,"
    " previous_adapter_id, by, reason) VALUES (:t, :seq, :at, :e, :action, :outcome,"
    " :adapter, :previous, :by, :reason) ON CONFLICT DO NOTHING"
)
ERASED = tuple(
    text(f"DELETE FROM {table} WHERE tenant = :t AND expert_id = :e")
    for table in ("adapters", "deployments", "audit")
)


def audit_row(rec: RecordedEvent) -> dict | None:
    """The audit trail's line for an event: what was done, to what, by whom, and why."""
    ev = rec.event
    row = {"t": rec.tenant, "seq": rec.seq, "at": rec.at, "e": getattr(ev, "expert_id", "")}
    row |= {"outcome": "succeeded", "previous": None, "by": getattr(ev, "by", "")}
    match ev:
        case AdapterRegistered():
            source = f"from {ev.filename}" if ev.filename else f"from run {ev.run_id}"
            state = "" if ev.valid else "; invalid: " + "; ".join(ev.problems)
            action = "import" if ev.source == "imported" else "register"
            return row | {"action": action, "adapter": ev.adapter_id, "reason": source + state}
        case AdapterTagged():
            said = [f"added {', '.join(ev.added)}" if ev.added else ""]
            said.append(f"removed {', '.join(ev.removed)}" if ev.removed else "")
            reason = "; ".join(s for s in said if s)
            return row | {"action": "tag", "adapter": ev.adapter_id, "reason": reason}
        case AdapterChecked():
            reason = "all files match" if ev.valid else "; ".join(ev.problems)
            return row | {"action": "verify", "adapter": ev.adapter_id, "reason": reason}
        case AdapterDeleted():
            reason = f"freed {ev.freed_bytes / MB:.1f} MB"
            return row | {"action": "delete", "adapter": ev.adapter_id, "reason": reason}
        case AdapterActivated() | AdapterRolledBack():
            action = "activate" if isinstance(ev, AdapterActivated) else "rollback"
            adapter = ev.adapter.adapter_id if ev.adapter else None
            reason = ev.reason or ("the base model" if adapter is None else "")
            return row | {
                "action": action,
                "adapter": adapter,
                "previous": ev.previous_adapter_id,
                "reason": reason,
            }
        case RegistryActionRefused():
            return row | {
                "action": ev.action,
                "outcome": "refused",
                "adapter": ev.adapter_id,
                "reason": ev.reason,
            }
    return None


class VersionsProjection(Tables):
    name = "registry.versions"
    streams = (STREAM,)
    announce = True
    table_ddl = (ADAPTERS_TABLE, DEPLOYMENTS_TABLE, AUDIT_TABLE)
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS adapters_by_expert"
        " ON adapters (tenant, expert_id, registered_at DESC)",
        "CREATE INDEX IF NOT EXISTS audit_by_expert ON audit (tenant, expert_id, seq)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "at": rec.at}
        match rec.event:
            case AdapterRegistered() as ev:
                out.add(REGISTERED, {**key, **registered_row(ev)})
            case AdapterTagged() as ev:
                out.add(TAGGED, {"t": rec.tenant, "id": ev.adapter_id, "tags": json_text(ev.tags)})
            case AdapterChecked() as ev:
                out.add(
                    CHECKED,
                    {"t": rec.tenant, "id": ev.adapter_id, "valid": ev.valid,
                     "problems": json_text(ev.problems)},
                )  # fmt: skip
            case AdapterDeleted() as ev:
                out.add(DELETED, {**key, "id": ev.adapter_id})
            case AdapterActivated() | AdapterRolledBack() as ev:
                adapter = ev.adapter.adapter_id if ev.adapter else None
                out.add(
                    DEPLOYED,
                    {**key, "e": ev.expert_id, "adapter": adapter, "version": ev.version,
                     "by": ev.by},
                )  # fmt: skip
            case VersionsErased() as ev:
                for statement in ERASED:  # the expert is gone: its audit trail goes with it
                    out.add(statement, {"t": rec.tenant, "e": ev.expert_id})
        row = audit_row(rec)
        if row is not None:
            out.add(AUDITED, row)


def registered_row(ev: AdapterRegistered) -> dict:
    return {
        "id": ev.adapter_id,
        "e": ev.expert_id,
        "source": ev.source,
        "created": ev.created_at,
        "base": ev.base_model,
        "backend": ev.backend,
        "dataset": ev.dataset_id,
        "run": ev.run_id,
        "config": json_text(ev.config),
        "metrics": json_text(ev.metrics),
        "traces": ev.traces_used,
        "size": ev.size_bytes,
        "sha": ev.sha256,
        "files": json_text(ev.files),
        "provider": ev.provider_model,
        "filename": ev.filename,
        "tags": json_text(ev.tags),
        "valid": ev.valid,
        "problems": json_text(ev.problems),
    }
