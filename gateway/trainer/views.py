"""How the console shows fine-tuning: a run's status, progress, losses and time left in plain
words, its loss points for the chart, an estimate as a cost or a duration, the schedule, the
spend against the budget, and the config keys with their ranges.

Pure functions over the trainer contracts' views; the templates only loop over what they
return.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from contracts.dataset import DatasetView
from contracts.trainer import Estimate, FinetuneSettings, RunView
from gateway.http.pages import RunShown, when, worded
from gateway.trainer.forms import BACKENDS, WHOLE, plain

BACKEND_LABELS = {value: label for value, label, _ in BACKENDS}
TRIGGERS = {"manual": "by you", "schedule": "on schedule", "api": "through the API"}
# key -> (label, what it does); the order the settings form shows them in.
KEYS = {
    "epochs": ("Epochs", "Times through the examples."),
    "max_steps": ("Stop after this many steps", "Empty: train every epoch."),
    "learning_rate": ("Learning rate", "How big each step of learning is."),
    "batch_size": ("Batch size", "Examples in each step."),
    "gradient_accumulation_steps": (
        "Gradient accumulation",
        "Batches added up before each update (a bigger batch in less memory).",
    ),
    "lora_rank": ("LoRA rank", "How much the adapter can learn; bigger is slower."),
    "lora_alpha": (
        "LoRA alpha",
        "How strongly the adapter's changes count (often twice the rank).",
    ),
    "lora_dropout": ("LoRA dropout", "Share of the adapter left out at random while training."),
    "max_seq_length": ("Longest example (tokens)", "Longer examples are cut."),
    "warmup_ratio": ("Warm-up", "Share of the steps spent slowly reaching the learning rate."),
    "weight_decay": ("Weight decay", "Keeps the adapter's weights small."),
    "eval_steps": ("Check every this many steps", "Empty: four times an epoch."),
    "early_stopping_patience": (
        "Patience",
        "Checks without improvement before training stops early.",
    ),
    "min_quality_score": (
        "Lowest quality score",
        "Answers scored below this are not trained on.",
    ),
    "seed": ("Seed", "The same seed trains the same way."),
}


def money(usd: float | None) -> str:
    return "–" if usd is None else f"${usd:,.2f}"


def duration(seconds: int | float | None) -> str:
    """'about 3 minutes', 'less than a minute', 'about 2 hours 10 minutes'."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    more = f" {rest} minute{'s' if rest != 1 else ''}" if rest else ""
    return f"about {hours} hour{'s' if hours != 1 else ''}{more}"


def loss_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


@dataclass(frozen=True)
class Run(RunShown):
    """A run as the dashboard, the runs table and its page show it."""

    view: RunView
    dataset_version: int | None = None
    STATUS = {**RunShown.STATUS, "running": "Training"}

    backend_label = worded("backend", BACKEND_LABELS)
    trigger_label = worded("trigger", TRIGGERS)

    @property
    def dataset_label(self) -> str:
        return f"Version {self.dataset_version}" if self.dataset_version else "A dataset"

    @property
    def step_text(self) -> str:
        v = self.view
        if v.total_steps:
            return f"Step {v.step} of {v.total_steps}"
        return "Not started" if v.status == "queued" else f"Step {v.step}"

    @property
    def where(self) -> str:
        """What the run is doing, in a few words."""
        v = self.view
        if v.status == "queued":
            if v.queue_position:
                return f"Waiting in the queue, position {v.queue_position}"
            return "Waiting in the queue"
        if v.status == "running":
            return v.stage or self.step_text
        if v.status == "succeeded":
            return "Trained: the adapter is ready"
        if v.status == "failed":
            return v.error or "The run failed"
        return "Cancelled"

    @property
    def loss(self) -> str:
        return loss_text(self.view.loss)

    @property
    def eval_loss(self) -> str:
        return loss_text(self.view.eval_loss)

    @property
    def final_loss(self) -> str:
        return self.final("train_loss", self.view.loss)

    @property
    def final_eval_loss(self) -> str:
        return self.final("val_loss", self.view.eval_loss)

    def final(self, metric: str, last: float | None) -> str:
        """The finished run's `metric` where it has one, else the last loss it reported."""
        measured = getattr(self.view.metrics, metric, None) if self.view.metrics else None
        return loss_text(last if measured is None else measured)

    @property
    def eta(self) -> str:
        if self.view.status != "running" or self.view.eta_seconds is None:
            return "–"
        return duration(self.view.eta_seconds)

    @property
    def percent(self) -> int:
        v = self.view
        return round(100 * v.step / v.total_steps) if v.total_steps else 0

    @property
    def points_json(self) -> str:
        """The loss points so far, for the chart's script (`data-points`)."""
        return msgspec.json.encode(self.view.history).decode()

    @property
    def config_rows(self) -> list[tuple[str, str, str]]:
        config = msgspec.structs.asdict(self.view.config)
        rows = [(key, KEYS[key][0], plain_value(config[key])) for key in KEYS]
        rows.append(("base_model", "Base model", self.view.base_model))
        return rows

    @property
    def metric_rows(self) -> list[tuple[str, str]]:
        m = self.view.metrics
        if m is None:
            return []
        rows = [
            ("Training loss", loss_text(m.train_loss)),
            ("Eval loss", loss_text(m.val_loss)),
            ("Best eval loss", loss_text(m.best_val_loss)),
            ("Perplexity", "–" if m.perplexity is None else f"{m.perplexity:.2f}"),
            ("Steps", str(m.steps)),
            ("Time", duration(m.seconds) if m.seconds >= 60 else f"{m.seconds:.1f} seconds"),
            ("Tokens a second", f"{m.tokens_per_s:.0f}"),
        ]
        if m.peak_memory_mb:
            rows.append(("Peak memory", f"{m.peak_memory_mb:.0f} MB"))
        if m.stopped_early:
            rows.append(("Stopped early", "yes: the eval loss stopped improving"))
        return rows


def plain_value(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return plain(value)
    return str(value)


def runs(views: list[RunView], datasets: list[DatasetView]) -> list[Run]:
    numbers = {d.id: d.version for d in datasets}
    return [Run(v, numbers.get(v.dataset_id)) for v in views]


def estimate_words(estimate: Estimate) -> str:
    """A cost for a hosted run, a duration for a local one."""
    if estimate.cost_usd is not None:
        return (
            f"Estimated cost {money(estimate.cost_usd)} for {estimate.training_tokens:,}"
            f" training tokens ({estimate.total_steps} steps)."
        )
    took = duration(estimate.expected_seconds) if estimate.expected_seconds is not None else None
    steps = f"{estimate.total_steps} steps over {estimate.train_examples} examples"
    return f"Expected to take {took} ({steps})." if took else f"{steps.capitalize()}."


@dataclass(frozen=True)
class Outlook:
    """The settings' facts the dashboard shows: data, schedule, spend."""

    settings: FinetuneSettings
    newest: DatasetView | None

    @property
    def missing(self) -> int:
        return max(0, self.settings.min_examples - self.settings.dataset_examples)

    @property
    def schedule_off(self) -> bool:
        return self.settings.schedule == "off"

    @property
    def next_tick(self) -> str:
        return when(self.settings.next_tick) if self.settings.next_tick else "–"

    @property
    def last_skip_at(self) -> str:
        return when(self.settings.last_skip_at) if self.settings.last_skip_at else ""

    @property
    def spent(self) -> str:
        return money(self.settings.spent_usd)

    @property
    def budget(self) -> str:
        b = self.settings.budget_usd
        return "no limit" if b is None else money(b)

    @property
    def left(self) -> str | None:
        b = self.settings.budget_usd
        return None if b is None else money(max(0.0, b - self.settings.spent_usd))


@dataclass(frozen=True)
class Field:
    """A config key as the settings form asks for it, with its range."""

    key: str
    label: str
    explains: str
    low: float | None
    high: float | None
    whole: bool

    @property
    def span(self) -> str:
        if self.low is None or self.high is None:
            return ""
        return f"{plain(self.low)} to {plain(self.high)}"


def fields(settings: FinetuneSettings) -> list[Field]:
    """Every config key the form asks for, its range from the settings (`ranges`)."""
    shown = []
    for key, (label, explains) in KEYS.items():
        low, high = (settings.ranges.get(key) or [None, None])[:2]
        shown.append(Field(key, label, explains, low, high, key in WHOLE))
    return shown
