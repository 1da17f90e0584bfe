"""The expert's own question set, written from its documents: the held-out (validation)
examples of its newest ready training dataset that came from a document passage. Each keeps
the document and page that answer it, and its reference is the answer in the document's
words. Held-out examples were never trained on, so an adapter cannot pass by having
memorised them."""

from __future__ import annotations

import re

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import ExpertSetGenerated, GenerateExpertSet, Question
from contracts.dataset import ListDatasets, ListExamples
from runtime.experts import require_expert
from runtime.rpc import ask

PAGE = 500
MARKERS = re.compile(r"\s*\[\d+\]")  # the citation markers an example's answer ends with


def reference_of(answer: str) -> str:
    """The answer in the document's words, without its `[1]` citation markers."""
    return MARKERS.sub("", answer).strip()


def topic_of(filename: str | None) -> str:
    """A document's name as a topic: its stem, words spaced, at most 40 characters."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", filename or "documents")
    return re.sub(r"[_\-\s]+", " ", stem).strip()[:40] or "documents"


def question_of(n: int, example) -> Question | None:
    asked = next((m.content for m in example.messages if m.role == "user"), None)
    answer = next((m.content for m in reversed(example.messages) if m.role == "assistant"), None)
    where = example.provenance
    if not asked or not answer or where.document_id is None:
        return None
    return Question(
        id=f"kb-{n:03d}",
        domain=topic_of(where.filename),
        question=asked[:2000],
        reference=reference_of(answer)[:4000] or answer[:4000],
        kind="knowledge",
        rubric=f"Says what {where.filename or 'the document'} says on page {where.page},"
        " and cites that page.",
        document_id=where.document_id,
        filename=where.filename,
        page=where.page,
        source="expert",
    )


async def generate(host, cmd: GenerateExpertSet) -> ExpertSetGenerated:
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
    query = ListExamples(tenant=cmd.tenant, dataset_id=newest.id, split="val",
                         source="knowledge", limit=PAGE)  # fmt: skip
    page = await ask(host.nc, query)
    questions = [q for n, e in enumerate(page.examples, 1) if (q := question_of(n, e))]
    if not questions:
        raise DomainError(
            ErrorCode.INVALID,
            f"dataset version {newest.version} holds no held-out questions from documents;"
            " build a dataset with more document questions",
        )
    questions = questions[: cmd.count]
    documents = len({q.document_id for q in questions})
    return ExpertSetGenerated(expert_id=cmd.expert_id, questions=questions, documents=documents)
