"""The benchmark forms as typed (every field a string) and what they become: a run to queue,
the settings, a custom question, the dashboard's filters. A bad value comes back as a
sentence naming the field, with what was typed kept.
"""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import SIZES, BenchSettings, GetSummary, StartBenchmark
from contracts.rules import explain
from gateway.benchmark.questions import QuestionIn

ACTIVE = "active"  # the adapter choice "whichever is active when the run is queued"
SUITE_NAMES = ("builtin", "expert", "custom")
MAX_MARGIN = 50.0
CHECKED = "on"


class StartForm(msgspec.Struct, kw_only=True):
    """Run quick / Run full: which questions, and which version answers them."""

    size: str = "quick"
    suite: str = "builtin"
    adapter: str = ACTIVE

    def command(self, expert_id: str) -> StartBenchmark:
        if self.size not in SIZES or self.suite not in SUITE_NAMES:
            raise DomainError(ErrorCode.INVALID, "Choose the questions and the size from the list.")
        adapter = None if self.adapter in ("", ACTIVE) else self.adapter
        return StartBenchmark(expert_id=expert_id, suite=self.suite, size=self.size,
                              adapter_id=adapter, trigger="manual")  # type: ignore[arg-type]  # fmt: skip


class SettingsForm(msgspec.Struct, kw_only=True):
    """Checkboxes are present ("on") or absent; the margin and the schedule as typed."""

    promote_only_if_better: str = ""
    margin_points: str = ""
    after_training: str = ""
    schedule: str = ""
    judge: str = ""

    @classmethod
    def of(cls, settings: BenchSettings) -> SettingsForm:
        def box(on: bool) -> str:
            return CHECKED if on else ""

        return cls(
            promote_only_if_better=box(settings.promote_only_if_better),
            margin_points=f"{settings.margin_points:g}",
            after_training=box(settings.after_training),
            schedule=settings.schedule,
            judge=box(settings.judge),
        )

    def settings(self) -> tuple[BenchSettings | None, dict[str, str]]:
        """The settings, or None and {field: what is wrong} (the schedule's cron is checked
        by the service, which names it)."""
        try:
            margin = float(self.margin_points.strip())
        except ValueError:
            margin = -1.0
        if not 0 <= margin <= MAX_MARGIN:
            words = f"The margin must be a number of points from 0 to {MAX_MARGIN:g}"
            return None, {"margin_points": f"{words} (got “{self.margin_points}”)"}
        try:
            settings = BenchSettings(
                promote_only_if_better=self.promote_only_if_better == CHECKED,
                margin_points=margin,
                after_training=self.after_training == CHECKED,
                schedule=self.schedule.strip() or "off",
                judge=self.judge == CHECKED,
            )
            return msgspec.convert(msgspec.to_builtins(settings), BenchSettings), {}
        except msgspec.ValidationError as exc:
            return None, {"schedule": explain(str(exc))}


class QuestionForm(msgspec.Struct, kw_only=True):
    """A custom question typed in the editor."""

    question: str = ""
    reference: str = ""
    kind: str = "text"
    domain: str = ""
    rubric: str = ""

    def question_in(self) -> QuestionIn:
        fields = {
            "question": self.question.strip(),
            "reference": self.reference.strip(),
            "kind": self.kind,
            "domain": self.domain.strip() or "custom",
            "rubric": self.rubric.strip(),
        }
        try:
            return msgspec.convert(fields, QuestionIn)
        except msgspec.ValidationError as exc:
            raise DomainError(ErrorCode.INVALID, explain(str(exc))) from exc


class Filters(msgspec.Struct, kw_only=True):
    """The dashboard's filters: a date range and a version ("" for all, `base`)."""

    since: str = ""
    until: str = ""
    adapter: str = ""

    def query(self, expert_id: str) -> GetSummary:
        return GetSummary(
            expert_id=expert_id,
            adapter_id=self.adapter or None,
            since=self.since or None,
            until=self.until or None,
        )

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.adapter)

    def export_query(self, expert_id: str) -> dict[str, str]:
        """The export links' query: the same runs the dashboard shows."""
        shown = {"since": self.since, "until": self.until, "adapter_id": self.adapter}
        return {"expert_id": expert_id, **{k: v for k, v in shown.items() if v}}
