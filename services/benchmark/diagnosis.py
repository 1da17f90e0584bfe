""" "Why is my expert weak?": the expert's own questions asked three ways — closed book (the
base model alone), with retrieval (the base model reading the expert's documents), and with
retrieval and the active adapter — and the difference put in plain words."""

from __future__ import annotations

from contracts.benchmark import DiagnosisStep, DiagnosisView

HELPS = 0.10  # a gain in mean quality (0–1) that counts as real help
GOOD = 0.60  # mean quality that counts as answering well
SETUPS = {
    "closed_book": ("closed", False),  # mode, with the active adapter
    "retrieval": ("rag", False),
    "adapter": ("rag", True),
}


def verdict(steps: list[DiagnosisStep]) -> tuple[str, list[str]]:
    """One sentence that says what to do, and the evidence, from finished steps."""
    by = {s.setup: s.avg_quality for s in steps if s.avg_quality is not None}
    closed, rag, tuned = by.get("closed_book"), by.get("retrieval"), by.get("adapter")
    if closed is None or rag is None:
        return "The diagnosis is still running.", []
    evidence = [
        f"Closed book: {closed:.0%} of the reference answers' content.",
        f"With its documents: {rag:.0%}.",
    ]
    if tuned is not None:
        evidence.append(f"With its documents and the active adapter: {tuned:.0%}.")
    if rag >= GOOD and (tuned is None or tuned >= rag - HELPS / 2):
        return "The expert answers its own questions well; nothing needs fixing.", evidence
    if tuned is not None and tuned < rag - HELPS / 2:
        return (
            "The active adapter makes answers worse than the base model reading the documents:"
            " roll back, or fine-tune again on a larger dataset.",
            evidence,
        )
    if rag - closed < HELPS:
        return (
            "Fix retrieval or add documents: the expert does about as well without its"
            " documents, so the passages it finds do not hold these answers (check that the"
            " documents cover them and were read correctly).",
            evidence,
        )
    return (
        "Fine-tune: the documents help, but the model does not yet use them well — a LoRA"
        " trained on the expert's own questions and answers should close the gap.",
        evidence,
    )


def view_of(expert_id: str, runs) -> DiagnosisView:
    """The latest diagnosis from its runs (rows of `views.diagnosis_runs`): its steps in
    setup order, the status of the whole (the first of failed, cancelled, running, queued that
    a step has, else succeeded) and, once every step has succeeded, the verdict."""
    if not runs:
        return DiagnosisView(expert_id=expert_id, status="none")
    order = list(SETUPS)
    runs = sorted(runs, key=lambda r: order.index(r.setup))
    steps = [
        DiagnosisStep(setup=r.setup, run_id=r.id, composite=r.composite, avg_quality=r.avg_quality)
        for r in runs
    ]
    statuses = {r.status for r in runs}
    status = next(
        (s for s in ("failed", "cancelled", "running", "queued") if s in statuses), "succeeded"
    )
    said, evidence = verdict(steps) if status == "succeeded" else ("", [])
    return DiagnosisView(expert_id=expert_id, status=status, steps=steps, verdict=said,
                         advice=evidence)  # fmt: skip
