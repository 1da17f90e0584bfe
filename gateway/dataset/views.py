"""How the console shows datasets: sources and rejection reasons in plain words, a version's
counts and progress, and an example as a row (its question, answer and where it came from).

Pure functions over the dataset contracts' views; the templates only loop over what they
return.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.dataset import DatasetView, TrainingExample
from gateway.http.pages import Shown, timed

SOURCES = {
    "knowledge": "From my documents",
    "traces": "Good answers",
    "feedback": "My edits",
    "manual": "Examples I write",
}
REASONS = {
    "empty": "Empty question or answer",
    "too_long": "Too long",
    "duplicate": "Same question twice",
    "banned_topic": "A banned topic",
    "over_cap": "Over the maximum number of examples",
    "unusable_reply": "The model wrote nothing usable",
}
EXPORTS = (
    ("chat", "Chat messages (OpenAI fine-tuning)"),
    ("alpaca", "Alpaca (instruction, input, output)"),
    ("preference", "Preference pairs (your edits: chosen and rejected)"),
)


def source_label(source: str) -> str:
    return SOURCES.get(source, source)


def reason_label(code: str) -> str:
    return REASONS.get(code, code.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Version(Shown):
    """A dataset version as the lists and its page show it."""

    view: DatasetView
    parent_version: int | None = None
    STATUS = {
        "building": "Building",
        "ready": "Ready",
        "failed": "Failed",
        "cancelled": "Cancelled",
    }

    @property
    def building(self) -> bool:
        return self.view.status == "building"

    @property
    def examples(self) -> int:
        return self.view.train_examples + self.view.val_examples

    @property
    def missing(self) -> int:
        """How many more examples it needs before it can be used for training."""
        return max(0, self.view.min_examples - self.examples)

    @property
    def stage(self) -> str:
        return self.view.stage or "starting"

    @property
    def done(self) -> int:
        return self.view.progress.get("done", 0)

    @property
    def total(self) -> int:
        return self.view.progress.get("total", 0)

    @property
    def by_source(self) -> list[tuple[str, int]]:
        return [(source_label(s), n) for s, n in self.view.sources.items() if n]

    @property
    def rejected(self) -> list[tuple[str, int]]:
        return [(reason_label(code), n) for code, n in self.view.rejected.items() if n]

    created = timed("created_at")


def versions(views: list[DatasetView]) -> list[Version]:
    """The versions, each knowing its parent's version number (edited versions have one)."""
    numbers = {v.id: v.version for v in views}
    return [Version(v, numbers.get(v.parent) if v.parent else None) for v in views]


@dataclass(frozen=True)
class Example:
    """A training example as a review row."""

    example: TrainingExample

    @property
    def id(self) -> str:
        return self.example.id

    @property
    def question(self) -> str:
        return _last(self.example, "user")

    @property
    def answer(self) -> str:
        return _last(self.example, "assistant")

    @property
    def source(self) -> str:
        return source_label(self.example.source)

    @property
    def origin(self) -> str:
        p = self.example.provenance
        if p.filename:
            return f"{p.filename}, page {p.page}" if p.page else p.filename
        if p.answer_id:
            return "An answer of your expert"
        return "Written by you" if self.example.source == "manual" else "—"

    @property
    def document_href(self) -> str | None:
        p = self.example.provenance
        if not p.document_id:
            return None
        return f"/api/documents/{p.document_id}/file" + (f"#page={p.page}" if p.page else "")

    @property
    def score(self) -> str:
        return "—" if self.example.score is None else f"{self.example.score:.1f}"

    @property
    def tags(self) -> str:
        return ", ".join(self.example.tags)


def _last(example: TrainingExample, role: str) -> str:
    return next((m.content for m in reversed(example.messages) if m.role == role), "")
