"""Promotion after a fine-tune, gated on what the expert is for, with a guard against
forgetting — pure: which runs a gate needs, and what they decide.

A fine-tune teaches the expert its documents, so it is judged first on the expert's own
questions (written from the held-out side of the dataset the run trained on): it must beat the
active version on the same questions by the bench's margin (`BenchSettings.margin_points`), as
any candidate must. Learning a narrow set of manuals can make a small model forget what it
knew (catastrophic forgetting), which its own questions never show; so when it was judged on
its own set, both versions also answer the built-in quick bank (mathematics, coding, science,
reasoning, creative writing), and the candidate is held back when its composite there falls
more than `FORGETTING_TOLERANCE_POINTS` below the active version's.

The tolerance is 10 composite points. A quick run asks ten built-in questions and each is worth
7 points of the composite (0.70 × 100 / 10): a drop of 10 or more is the whole of one question
lost and more, or several half-lost — not the jitter of a partly right answer, and not the few
points by which speed or cut-off answers move (greedy answers repeat, so the same version
scores the same). A smaller drop is allowed: the candidate was trained to change its answers,
and a fine-tune that wins on its purpose should not be held back by one question of trivia.

Runs of the active version are reused when one is recent (`REUSE_WITHIN`), asked the same
questions and was scored by the same scorer; otherwise they are measured afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from contracts.benchmark import BenchSettings
from services.benchmark import domain

FORGETTING_TOLERANCE_POINTS = 10.0
REUSE_WITHIN = timedelta(hours=24)
SUITES = {
    "expert": "its own questions",
    "builtin": "the built-in bank",
    "custom": "its custom questions",
}


@dataclass(frozen=True)
class Measured:
    """One run as the gate reads it."""

    run_id: str
    adapter_id: str | None
    suite: str
    status: str  # queued | running | succeeded | failed | cancelled | none (never queued)
    composite: float | None
    unanswered: int = 0


def measured(run_id: str, state: domain.RunState) -> Measured:
    queued = state.queued
    return Measured(
        run_id=run_id,
        adapter_id=queued.adapter_id if queued else None,
        suite=queued.suite if queued else "",
        status=state.status,
        composite=state.metrics.composite
        if state.metrics and state.status == "succeeded"
        else None,
        unanswered=len(domain.unanswered(state)),
    )


@dataclass(frozen=True)
class Verdict:
    promoted: bool
    reason: str
    delta: float | None = None  # on the candidate's own set, composite points
    guard_delta: float | None = None  # on the built-in bank


def _name(adapter_id: str | None) -> str:
    return "the base model" if adapter_id is None else f"version {adapter_id}"


def _ended(run: Measured | None) -> str:
    if run is None or run.status == "none":
        return "was never queued"
    return {"failed": "failed", "cancelled": "was cancelled"}.get(run.status, "did not finish")


def decide(
    candidate: Measured,
    against: Measured | None,
    guard: Measured | None,
    guard_against: Measured | None,
    settings: BenchSettings,
    active: str | None,
) -> Verdict:
    """The promotion of `candidate` (a run of the new adapter) over `active` (the version that
    answers now), from the gate's runs once all have ended."""
    where = SUITES.get(candidate.suite, candidate.suite)
    if candidate.adapter_id == active:
        return Verdict(True, "activated (it already answers for the expert)")
    if candidate.status != "succeeded":
        return Verdict(False, f"held back: its run on {where} {_ended(candidate)}, so there is"
                              " nothing to judge it by; run a benchmark of it again")  # fmt: skip
    if candidate.unanswered:
        return Verdict(False, f"held back: {candidate.unanswered} of its questions could not be"
                              " answered in this run, so its score is no evidence; run a"
                              " benchmark of it again")  # fmt: skip
    if not settings.promote_only_if_better:
        return Verdict(True, "activated: 'promote only if better' is off")
    name = _name(active)
    if against is None or against.composite is None:
        return Verdict(False, f"held back: {name} has no run on {where} to compare with (it"
                              f" {_ended(against)}); run a benchmark of it, then activate the"
                              " better one")  # fmt: skip
    if against.adapter_id != active:
        return Verdict(False, f"held back: it was measured against {_name(against.adapter_id)},"
                              f" but {name} was made active meanwhile; that stands")  # fmt: skip
    new, old = candidate.composite, against.composite
    delta = new - old
    margin = settings.margin_points
    said = f"{new:.1f} against {old:.1f} for {name} on {where}, {delta:+.1f} points"
    if delta < margin:
        return Verdict(False, f"held back: {said}; it must win by {margin:g}", delta)
    if guard is None:
        return Verdict(True, f"activated: {said} (the margin is {margin:g})", delta)
    if guard.composite is None or guard_against is None or guard_against.composite is None:
        broken = guard if guard.composite is None else guard_against
        return Verdict(False, f"held back: {said}, but the built-in bank's run that guards"
                              f" against forgetting {_ended(broken)}; run a benchmark of both on"
                              " the built-in bank", delta)  # fmt: skip
    if guard.unanswered:
        return Verdict(False, f"held back: {said}, but {guard.unanswered} built-in questions"
                              " could not be answered, so the guard against forgetting is no"
                              " evidence", delta)  # fmt: skip
    guard_delta = guard.composite - guard_against.composite
    bank = f"{guard.composite:.1f} against {guard_against.composite:.1f} on the built-in bank"
    if guard_delta < -FORGETTING_TOLERANCE_POINTS:
        return Verdict(
            False,
            f"held back: {said}, but {bank} of general questions ({guard_delta:+.1f} points;"
            f" at most {FORGETTING_TOLERANCE_POINTS:g} lower is allowed): the fine-tune made"
            " it forget what it knew — train for fewer epochs, at a lower learning rate, or"
            " on a larger dataset",
            delta,
            guard_delta,
        )
    return Verdict(
        True,
        f"activated: {said} (the margin is {margin:g}); {bank} ({guard_delta:+.1f}, within"
        f" the {FORGETTING_TOLERANCE_POINTS:g} allowed)",
        delta,
        guard_delta,
    )
