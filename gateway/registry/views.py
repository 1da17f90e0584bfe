"""How the console shows adapter versions: each version as a row (where it came from, its
losses, size, tags, whether its files are intact, whether it may be deleted and why not),
two versions side by side with their differences marked, and audit entries in plain words.

Pure functions over the registry contracts' views; the templates only loop over what they
return.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from contracts.benchmark import BenchmarkView
from contracts.dataset import DatasetView
from contracts.registry import STABLE, AdapterView, AuditEntry
from gateway.http.multipart_stream import human_size
from gateway.http.pages import timed, worded
from gateway.trainer.views import KEYS, loss_text, plain_value

SOURCES = {"trained": "Trained", "imported": "Imported"}
ACTIONS = {
    "register": "Trained and added",
    "import": "Imported",
    "activate": "Activated",
    "rollback": "Rolled back",
    "tag": "Tagged",
    "delete": "Deleted",
    "verify": "Checked",
}
OUTCOMES = {"succeeded": "Done", "refused": "Refused"}
BASE_LABEL = "Base model (no adapter)"
MOVES = ("activate", "rollback")  # actions whose adapter None means the base model
MB = 1024 * 1024
NO_SCORE = "no benchmark yet"


def megabytes(size: int) -> str:
    return f"{size / MB:.2f} MB"


@dataclass(frozen=True)
class Version:
    """One adapter version as the versions table and the compare page show it."""

    view: AdapterView
    dataset_version: int | None = None

    @property
    def id(self) -> str:
        return self.view.id

    created = timed("created_at")
    source = worded("source", SOURCES)

    @property
    def train_loss(self) -> str:
        return loss_text(self.view.metrics.train_loss)

    @property
    def val_loss(self) -> str:
        return loss_text(self.view.metrics.val_loss)

    @property
    def size(self) -> str:
        return megabytes(self.view.size_bytes)

    @property
    def stable(self) -> bool:
        return STABLE in self.view.tags

    @property
    def dataset_label(self) -> str:
        if self.dataset_version:
            return f"Version {self.dataset_version}"
        return "A dataset" if self.view.dataset_id else "–"

    @property
    def undeletable(self) -> str:
        """Why Delete is disabled ("" when it is not)."""
        if self.view.is_active:
            return "The active version cannot be deleted: activate another one first."
        if self.stable:
            return "Tagged stable: remove the stable tag to delete it."
        return ""


def versions(views: list[AdapterView], datasets: list[DatasetView]) -> list[Version]:
    numbers = {d.id: d.version for d in datasets}
    return [Version(v, numbers.get(v.dataset_id or "")) for v in views]


@dataclass(frozen=True)
class Row:
    """A line of the compare page: the label, A's and B's values, and whether they differ."""

    label: str
    a: str
    b: str

    @property
    def differs(self) -> bool:
        return self.a != self.b


def comparison(a: Version, b: Version) -> list[tuple[str, list[Row]]]:
    """Sections of rows: what each is, its metrics, its config, its files."""
    return [
        ("About", about_rows(a, b)),
        ("Metrics", metric_rows(a.view, b.view)),
        ("Settings it trained with", config_rows(a.view, b.view)),
        ("Files", file_rows(a.view, b.view)),
    ]


def about_rows(a: Version, b: Version) -> list[Row]:
    def facts(v: Version) -> list[str]:
        return [
            v.source,
            v.created,
            v.view.base_model,
            v.view.backend,
            v.dataset_label,
            str(v.view.traces_used),
            v.size,
            ", ".join(v.view.tags) or "–",
            "valid" if v.view.valid else "invalid",
            "yes" if v.view.is_active else "no",
        ]

    labels = ["Source", "Created", "Base model", "Backend", "Dataset", "Traces used",
              "Size", "Tags", "Integrity", "Active"]  # fmt: skip
    return [Row(*row) for row in zip(labels, facts(a), facts(b), strict=True)]


def metric_rows(a: AdapterView, b: AdapterView) -> list[Row]:
    ma, mb = msgspec.structs.asdict(a.metrics), msgspec.structs.asdict(b.metrics)
    return [
        Row(key.replace("_", " ").capitalize(), metric_value(ma[key]), metric_value(mb[key]))
        for key in ma
    ]


def metric_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return plain_value(value)


def config_rows(a: AdapterView, b: AdapterView) -> list[Row]:
    ca = msgspec.structs.asdict(a.config) if a.config else {}
    cb = msgspec.structs.asdict(b.config) if b.config else {}
    keys = [k for k in KEYS if k in ca or k in cb]
    keys += sorted((set(ca) | set(cb)) - set(keys))
    return [
        Row(KEYS[k][0] if k in KEYS else k, plain_value(ca.get(k)), plain_value(cb.get(k)))
        for k in keys
    ]


def file_rows(a: AdapterView, b: AdapterView) -> list[Row]:
    fa, fb = {f.name: f for f in a.files}, {f.name: f for f in b.files}

    def shown(files: dict, name: str) -> str:
        f = files.get(name)
        return f"{human_size(f.size)}, sha256 {f.sha256[:12]}" if f else "–"

    return [Row(name, shown(fa, name), shown(fb, name)) for name in sorted(set(fa) | set(fb))]


def latest_score(runs: list[BenchmarkView]) -> str:
    """A version's newest finished benchmark (runs newest first; a diagnosis's runs, asked
    another way, left out) as its composite score with the 95% interval, and which questions
    it answered."""
    done = next((r for r in runs if r.status == "succeeded" and r.setup is None), None)
    if done is None:
        return NO_SCORE
    interval = f" ({done.ci_low:.1f}–{done.ci_high:.1f})" if done.ci_low is not None else ""
    return f"{done.composite_score:.1f}{interval}, {done.size} run of the {done.suite} questions"


@dataclass(frozen=True)
class Entry:
    """An audit entry in plain words."""

    view: AuditEntry

    at = timed("at")
    action = worded("action", ACTIONS)
    outcome = worded("outcome", OUTCOMES)

    @property
    def adapter(self) -> str:
        return self.view.adapter_id or (BASE_LABEL if self.view.action in MOVES else "–")

    @property
    def previous(self) -> str:
        if self.view.action not in MOVES:
            return "–"
        return self.view.previous_adapter_id or BASE_LABEL
