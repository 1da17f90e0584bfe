"""The registry context: every adapter an expert has is a *version* that can be activated,
tagged, compared, exported, imported, verified, rolled back and deleted.

Two aggregates, both keyed by the expert id.
- `versions`: everything about the expert's versions — registered (from a finished training
  run or an imported archive), tagged, checked, deleted, activated, rolled back. One
  aggregate, so every decision sees every fact it depends on: a version cannot be deleted
  by one request while another activates it. Activation and rollback are each ONE event
  appended with optimistic concurrency, so they happen entirely or not at all; the
  deployment's own `version` (1, 2, ... per activation or rollback) is what a client sends
  back as `expected_version`, so of concurrent activations made on the same view exactly
  one wins and the rest are refused (409).
- `audit`: the actions that were asked for and refused, with the reason. The audit trail is
  the log itself: every event of the two aggregates is one line of it.

A version's files are plain files under `SIMTUNE_HOME/lora-adapters/<adapter_id>/`, copied
from the `adapters` bucket (`<tenant>/<adapter_id>/<file>`), with a `manifest.json`; each
expert's `active.json` lies under `SIMTUNE_HOME/lora-adapters/experts/<tenant>/<expert_id>/`.
Both are projections of the log.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from contracts.base import Command, Download, Event, ObjectRef, Query, Reply
from contracts.rules import Count, Sha256, Token, items, line
from contracts.scoped import ExpertCommand, ExpertFact, ExpertQuery
from contracts.trainer import AdapterFile, RunMetrics, TrainConfig

CONTEXT = "registry"
STREAM = "REGISTRY"
VERSIONS = "versions"
AUDIT = "audit"
BUCKET = "adapters"  # the same bucket the trainer writes: <tenant>/<adapter_id>/<file>
IMPORTS = "adapter-imports"  # archives received for import: <tenant>/<sha256>-<random>
EXPORTS = "exports"  # archives made for download: <tenant>/adapters/<adapter_id>.tar.gz
BASE = "base"  # in a path or a CLI argument: the base model, no adapter
STABLE = "stable"  # the tag that protects a version from deletion
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "simtune-adapter/1"

Source = Literal["trained", "imported"]
Action = Literal["register", "import", "activate", "rollback", "tag", "delete", "verify"]
Outcome = Literal["succeeded", "refused"]
Tag = line(40, min_length=1)
Actor = line(100, min_length=1)  # who: "console", "api", "cli", "benchmark", "trainer"
Reason = line(500)


def whole_digest(files: list[AdapterFile]) -> str:
    """The sha256 of a version as a whole: of the `sha256  name` lines of its files (the
    `sha256sum` format), sorted by name. Equal files give an equal digest, on any machine."""
    lines = "".join(f"{f.sha256}  {f.name}\n" for f in sorted(files, key=lambda f: f.name))
    return hashlib.sha256(lines.encode()).hexdigest()


class DeployedAdapter(msgspec.Struct, frozen=True, kw_only=True):
    """What the expert service needs to answer with a version: where its bytes are and what
    they must hash to (a local adapter), or the provider's model (a hosted one)."""

    adapter_id: Token
    base_model: line(200)
    files: items(AdapterFile, 16) = []
    provider_model: line(300) | None = None


class Manifest(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """`manifest.json` beside a version's files and at the root of an export archive.
    Field names are the PRD's (`createdAt`, `baseModel`, ...)."""

    format: str = MANIFEST_FORMAT
    id: Token
    expert_id: Token | None = None
    created_at: line(40)
    base_model: line(200)
    backend: line(40) = "peft"
    traces_used: Count = 0
    dataset_id: Token | None = None
    run_id: Token | None = None
    metrics: RunMetrics = RunMetrics()
    config: TrainConfig | None = None
    tags: items(Tag, 32) = []
    is_active: bool = False
    size_bytes: Count = msgspec.field(default=0, name="size_bytes")  # as the PRD spells it
    files: items(AdapterFile, 16) = []
    sha256: Sha256 | None = None  # whole_digest(files)


# ---- events --------------------------------------------------------------------------------


class AdapterFact(Event, frozen=True, kw_only=True, tag=False):
    """An event about one version: which version, and the expert whose versions it is on."""

    adapter_id: Token
    expert_id: Token


class DeploymentChanged(ExpertFact, frozen=True, kw_only=True, tag=False):
    """What the expert answers with from its next answer: `adapter` (None: the base model),
    the version it replaced, and the deployment's version after the change (1, 2, ...). An
    activation and a rollback both are one such change, and projections treat them alike."""

    adapter: DeployedAdapter | None
    previous_adapter_id: Token | None = None
    version: Count


class AdapterRegistered(AdapterFact, frozen=True, kw_only=True, tag="registry.AdapterRegistered"):
    """A version exists: trained by a run or imported from an archive. `valid` False keeps
    it listed but not activatable; `problems` says why."""

    personal: ClassVar[tuple[str, ...]] = ("filename",)

    source: Source
    base_model: line(200)
    backend: line(40)
    files: items(AdapterFile, 16) = []
    provider_model: line(300) | None = None
    run_id: Token | None = None
    dataset_id: Token | None = None
    config: TrainConfig | None = None
    metrics: RunMetrics = RunMetrics()
    traces_used: Count = 0  # training examples it learned from
    size_bytes: Count = 0
    sha256: Sha256 | None = None  # whole_digest(files); None for a hosted adapter
    created_at: line(40)  # when it was trained (or, imported, what its manifest says)
    tags: items(Tag, 32) = []
    filename: line(255) | None = None  # the imported archive's name
    valid: bool = True
    problems: items(line(300), 16) = []
    by: Actor = "trainer"


class AdapterTagged(AdapterFact, frozen=True, kw_only=True, tag="registry.AdapterTagged"):
    tags: items(Tag, 32)  # the whole set afterwards
    added: items(Tag, 32) = []
    removed: items(Tag, 32) = []
    by: Actor


class AdapterChecked(AdapterFact, frozen=True, kw_only=True, tag="registry.AdapterChecked"):
    """Its files were hashed again: on demand, or before an activation found them changed."""

    valid: bool
    problems: items(line(300), 16) = []
    by: Actor


class AdapterDeleted(AdapterFact, frozen=True, kw_only=True, tag="registry.AdapterDeleted"):
    freed_bytes: Count = 0
    by: Actor


class AdapterActivated(
    DeploymentChanged, frozen=True, kw_only=True, tag="registry.AdapterActivated"
):
    """The expert answers with `adapter` from its next answer (None: the base model)."""

    by: Actor
    reason: Reason = ""


class AdapterRolledBack(
    DeploymentChanged, frozen=True, kw_only=True, tag="registry.AdapterRolledBack"
):
    """Like an activation, back to an earlier version: the one before (`chosen` False) or
    one the person picked."""

    chosen: bool = False
    by: Actor
    reason: Reason = ""


class RegistryActionRefused(ExpertFact, frozen=True, kw_only=True, tag="registry.ActionRefused"):
    """An action that was asked for and refused, and why: on the audit trail as well."""

    action: Action
    adapter_id: Token | None = None
    code: line(40)
    reason: Reason
    by: Actor


class VersionsErased(ExpertFact, frozen=True, kw_only=True, tag="registry.VersionsErased"):
    """The expert was deleted: every version of it is gone (rows, folders, stored files and
    exports), whatever its tags or whether it was active."""


RegistryEvent = (
    AdapterRegistered
    | AdapterTagged
    | AdapterChecked
    | AdapterDeleted
    | AdapterActivated
    | AdapterRolledBack
    | RegistryActionRefused
    | VersionsErased
)


# ---- commands ------------------------------------------------------------------------------


class AdapterCommand(Command, frozen=True, kw_only=True, tag=False):
    """A command about one version, found by its id alone (it knows its expert)."""

    adapter_id: Token


class ActivateAdapter(ExpertCommand, frozen=True, kw_only=True, tag="registry.ActivateAdapter"):
    """Make a version (or, `adapter_id` None, the base model) the expert's. With
    `expected_version` set, a deployment that has moved on since is a 409."""

    subject = "cmd.registry.activate"

    adapter_id: Token | None
    expected_version: Count | None = None
    by: Actor = "api"
    reason: Reason = ""


class RollbackAdapter(ExpertCommand, frozen=True, kw_only=True, tag="registry.RollbackAdapter"):
    """Back to the version active before the current one, or to `to_adapter_id`
    (`base` is the base model)."""

    subject = "cmd.registry.rollback"

    to_adapter_id: Token | None = None
    expected_version: Count | None = None
    by: Actor = "api"
    reason: Reason = ""


class TagAdapter(AdapterCommand, frozen=True, kw_only=True, tag="registry.TagAdapter"):
    subject = "cmd.registry.tag"

    add: items(Tag, 32) = []
    remove: items(Tag, 32) = []
    by: Actor = "api"


class DeleteAdapter(AdapterCommand, frozen=True, kw_only=True, tag="registry.DeleteAdapter"):
    subject = "cmd.registry.delete"

    by: Actor = "api"


class VerifyAdapter(AdapterCommand, frozen=True, kw_only=True, tag="registry.VerifyAdapter"):
    subject = "cmd.registry.verify"
    reply = "AdapterView"

    by: Actor = "api"


class ImportAdapter(ExpertCommand, frozen=True, kw_only=True, tag="registry.ImportAdapter"):
    """Register the `.tar.gz` the gateway stored in the `adapter-imports` bucket."""

    subject = "cmd.registry.import"
    reply = "AdapterImported"

    archive: ObjectRef
    filename: line(255) = "adapter.tar.gz"
    by: Actor = "api"


# ---- queries -------------------------------------------------------------------------------


class AdapterQuery(Query, frozen=True, kw_only=True, tag=False):
    """A query about one version, found by its id alone (it knows its expert)."""

    adapter_id: Token


class ListAdapters(ExpertQuery, frozen=True, kw_only=True, tag="registry.ListAdapters"):
    subject = "qry.registry.adapters"
    reply = "AdapterList"

    tag: Tag | None = None


class GetAdapter(AdapterQuery, frozen=True, kw_only=True, tag="registry.GetAdapter"):
    subject = "qry.registry.adapter"
    reply = "AdapterView"


class GetActiveAdapter(ExpertQuery, frozen=True, kw_only=True, tag="registry.GetActiveAdapter"):
    subject = "qry.registry.active"
    reply = "ActiveAdapter"


class GetAudit(ExpertQuery, frozen=True, kw_only=True, tag="registry.GetAudit"):
    subject = "qry.registry.audit"
    reply = "AuditTrail"

    action: Action | None = None
    outcome: Outcome | None = None
    adapter_id: Token | None = None
    since: line(40) | None = None  # ISO date or time, inclusive
    until: line(40) | None = None  # ISO date or time, exclusive
    limit: Annotated[int, Meta(ge=1, le=10_000)] = 1000


class ExportAdapter(AdapterQuery, frozen=True, kw_only=True, tag="registry.ExportAdapter"):
    """Pack a version as a `.tar.gz` in the `exports` bucket (its files hashed first)."""

    subject = "qry.registry.export"
    reply = "AdapterExport"


# ---- replies -------------------------------------------------------------------------------


class AdapterView(Reply, frozen=True, kw_only=True):
    id: str
    expert_id: str
    created_at: str
    base_model: str
    backend: str
    dataset_id: str | None
    run_id: str | None
    metrics: RunMetrics
    tags: list[str]
    is_active: bool
    valid: bool
    size_bytes: int
    source: str = "trained"
    problems: list[str] = []
    provider_model: str | None = None
    sha256: str | None = None
    files: list[AdapterFile] = []
    config: TrainConfig | None = None
    traces_used: int = 0
    registered_at: str = ""
    filename: str | None = None


class AdapterList(Reply, frozen=True, kw_only=True):
    expert_id: str
    adapters: list[AdapterView]
    active_adapter_id: str | None
    version: int  # the deployment's version: send it back as `expected_version`


class ActiveAdapter(Reply, frozen=True, kw_only=True):
    expert_id: str
    adapter_id: str | None  # None: the base model
    version: int = 0
    activated_at: str | None = None
    by: str | None = None


class AuditEntry(Reply, frozen=True, kw_only=True):
    seq: int
    at: str
    expert_id: str
    action: str
    outcome: Outcome
    adapter_id: str | None = None
    previous_adapter_id: str | None = None
    by: str = ""
    reason: str = ""


class AuditTrail(Reply, frozen=True, kw_only=True):
    expert_id: str
    entries: list[AuditEntry]


class AdapterExport(Download, frozen=True, kw_only=True):
    pass  # the archive, in the exports bucket


class AdapterImported(Reply, frozen=True, kw_only=True):
    adapter_id: str
    seq: int
    valid: bool
    duplicate: bool = False  # the same files were already a version of this expert
    skipped: list[str] = []  # files in the archive that are not part of an adapter
