"""The expert's own question set, written from its documents: the held-out (validation)
examples of one of its training datasets that came from a document passage. Each keeps the
document and page that answer it, and its reference is the answer in the document's words.
Held-out examples were never trained on, so an adapter cannot pass by having memorised them.

A person asks for a set from the newest ready dataset (`generate`); after a fine-tune the set
is written from the dataset that run trained on (`from_dataset`, by `after_training`).

Training examples are RAFT-shaped: the user's message is the numbered sources and then the
question (`contracts.prompting.sources_message`), and the answer cites them as `[1]`. A
question is asked as a person would ask it — the bare question; the expert finds its own
sources — and the reference is the answer without its markers. An example that teaches the
expert to say the sources do not cover the question (`NOT_COVERED`) tests no knowledge and
is left out."""

from __future__ import annotations

import re

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import ExpertSetGenerated, GenerateExpertSet, Question
from contracts.dataset import DatasetView, ListDatasets, ListExamples
from contracts.prompting import NOT_COVERED, question_in
from runtime.experts import require_expert
from runtime.rpc import ask

PAGE = 500
COUNT = 50  # questions written after a fine-tune (a person's request names its own)
MARKERS = re.compile(r"\s*\[\d+\]")  # the citation markers an example's answer ends with


def reference_of(answer: str) -> str:
    """The answer in the document's words, without its `[1]` citation markers."""
    return MARKERS.sub("", answer).strip()


def topic_of(filename: str | None) -> str:
    """A document's name as a topic: its stem, words spaced, at most 40 characters."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", filename or "documents")
    return re.sub(r"[_\-\s]+", " ", stem).strip()[:40] or "documents"


def question_of(n: int, example) -> Question | None:
    """Example `n` as a knowledge question, or None when it is not one: no document behind
    it, no question or answer, or an answer that says the sources do not cover it."""
    asked = next((m.content for m in example.messages if m.role == "user"), None)
    answer = next((m.content for m in reversed(example.messages) if m.role == "assistant"), None)
    where = example.provenance
    if not asked or not answer or where.document_id is None:
        return None
    reference = reference_of(answer)
    if reference.rstrip(".") == NOT_COVERED.rstrip("."):
        return None
    question = question_in(asked).strip()
    if not question:
        return None
    return Question(
        id=f"kb-{n:03d}",
        domain=topic_of(where.filename),
        question=question[:2000],
        reference=reference[:4000] or answer[:4000],
        kind="knowledge",
        rubric=f"Says what {where.filename or 'the document'} says on page {where.page},"
        " and cites that page.",
        document_id=where.document_id,
        filename=where.filename,
        page=where.page,
        source="expert",
    )


async def generate(host, cmd: GenerateExpertSet) -> ExpertSetGenerated:
    """A person's request: the set written from the expert's newest ready dataset."""
    await require_expert(host.nc, cmd.tenant, cmd.expert_id)
    listed = await ask(
        host.nc, ListDatasets(tenant=cmd.tenant, expert_id=cmd.expert_id),
    )  # fmt: skip
    ready = [d for d in listed.datasets if d.status == "ready"]
    if not ready:
        raise DomainError(
            ErrorCode.INVALID,
            "this expert has no ready training dataset to write questions from: build one"
            " from its documents first",
        )
    newest = max(ready, key=lambda d: d.version)
    return await from_dataset(host, cmd.tenant, newest, cmd.count)


async def from_dataset(
    host, tenant: str, dataset: DatasetView, count: int = COUNT, trigger: str = "api"
) -> ExpertSetGenerated:
    """The set written from the held-out side of `dataset`; INVALID when it has no
    held-out questions from documents."""
    query = ListExamples(tenant=tenant, dataset_id=dataset.id, split="val",
                         source="knowledge", limit=PAGE)  # fmt: skip
    page = await ask(host.nc, query)
    questions = [q for n, e in enumerate(page.examples, 1) if (q := question_of(n, e))]
    if not questions:
        raise DomainError(
            ErrorCode.INVALID,
            f"dataset version {dataset.version} holds no held-out questions from documents;"
            " build a dataset with more document questions",
        )
    questions = questions[:count]
    documents = len({q.document_id for q in questions})
    return ExpertSetGenerated(
        expert_id=dataset.expert_id, questions=questions, documents=documents,
        dataset_id=dataset.id, dataset_version=dataset.version, trigger=trigger,
    )  # fmt: skip
