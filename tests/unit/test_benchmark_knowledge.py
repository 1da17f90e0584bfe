"""Scoring what an expert is for: a knowledge answer earns its citation only by citing the
question's page, its groundedness comes from the claims the expert judged, and the expert's
own questions are the bare questions and references of RAFT-shaped training examples."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from contracts.answers import Claim
from contracts.benchmark import Question
from contracts.dataset import Message, Provenance, TrainingExample
from contracts.prompting import NOT_COVERED, sources_message
from services.benchmark.expert_set import question_of
from services.benchmark.scoring import SCORER_VERSION, Grounded, grounded, score

RULE = Question(
    id="kb-001", domain="harbour rules", question="Where do class 3 boats moor?",
    reference="Boats of class 3 moor at pier 5.", kind="knowledge", document_id="d1", page=3,
    source="expert",
)  # fmt: skip
ANSWER = "Boats of class 3 moor at pier 5."


def test_citing_the_questions_page_earns_the_citation_and_another_page_earns_none():
    right = score(RULE, ANSWER, cited=[("d2", 1), ("d1", 3)])
    wrong_page = score(RULE, ANSWER, cited=[("d1", 4)])
    wrong_document = score(RULE, ANSWER, cited=[("d2", 3)])
    assert right.parts["citation"] == 1.0 and right.score == pytest.approx(1.0)
    assert wrong_page.parts["citation"] == 0.0 and wrong_page.score == pytest.approx(0.7)
    assert wrong_document.parts["citation"] == 0.0 and wrong_document.score == pytest.approx(0.7)
    assert any("page 4" in r and "page 3" in r for r in wrong_page.reasons)
    assert right.scorer_version == SCORER_VERSION == 2


def claims(*supports: str, origin: str = "model") -> list[Claim]:
    return [Claim(text=f"Sentence {n}.", support=s, origin=origin) for n, s in enumerate(supports)]


def test_groundedness_is_the_supported_share_of_the_models_own_judged_claims():
    said = claims("supported", "supported", "unsupported", "not_a_claim")
    assert grounded(said) == Grounded(2, 1) and grounded(said).share == pytest.approx(2 / 3)
    quoted = claims("supported", "supported", origin="documents")  # a quote supports itself
    assert grounded(quoted + claims("unsupported")) == Grounded(0, 1)
    assert grounded([]) is None  # an older expert's reply: not measured
    assert grounded(claims("not_a_claim")) is None  # a refusal claims nothing
    assert grounded(claims("supported", "unchecked")) is None  # could not be checked


def test_groundedness_from_claims_enters_the_knowledge_score_and_its_reasons():
    half = score(RULE, ANSWER, cited=[("d1", 3)], claims=Grounded(1, 1))
    assert half.parts["groundedness"] == 0.5
    assert half.score == pytest.approx(0.6 * 1.0 + 0.2 * 1.0 + 0.2 * 0.5)
    assert half.scorer == "overlap+citation+groundedness"
    assert any("1 of the answer's 2 claims are supported" in r for r in half.reasons)
    full = score(RULE, ANSWER, cited=[("d1", 3)], claims=Grounded(2, 0))
    assert full.score > half.score
    without = score(RULE, ANSWER, cited=[("d1", 3)], claims=None)  # today's behaviour
    assert "groundedness" not in without.parts and without.score == pytest.approx(1.0)
    closed_book = score(RULE, ANSWER, cited=None, claims=Grounded(0, 2))
    assert "groundedness" not in closed_book.parts  # nothing was given to be grounded in


@dataclass
class Passage:
    n: int
    filename: str
    page: int
    text: str


def raft(question: str, answer: str, page: int = 3) -> TrainingExample:
    passages = [Passage(1, "rules.pdf", page, "Boats of class 3 moor at pier 5."),
                Passage(2, "rules.pdf", 9, "Class 9 pays 27 crowns.")]  # fmt: skip
    return TrainingExample(
        id="x1", source="knowledge", split="val",
        messages=[Message(role="user", content=sources_message(passages, question)),
                  Message(role="assistant", content=answer)],
        provenance=Provenance(document_id="d1", filename="rules.pdf", page=page),
    )  # fmt: skip


def test_an_expert_question_is_the_bare_question_with_the_reference_unmarked():
    q = question_of(1, raft("Where do class 3 boats moor?", "Boats of class 3 moor at pier 5 [1]."))
    assert q.question == "Where do class 3 boats moor?" and "Sources" not in q.question
    assert q.reference == "Boats of class 3 moor at pier 5." and "[1]" not in q.reference
    assert (q.document_id, q.page, q.kind, q.source) == ("d1", 3, "knowledge", "expert")


def test_an_example_the_sources_do_not_cover_is_not_a_knowledge_question():
    assert question_of(2, raft("What do class 40 boats pay?", NOT_COVERED)) is None
    plain = TrainingExample(
        id="x2", source="knowledge", split="val",
        messages=[Message(role="user", content="Where do class 3 boats moor?"),
                  Message(role="assistant", content="At pier 5 [1].")],
        provenance=Provenance(document_id="d1", page=3),
    )  # fmt: skip
    assert question_of(3, plain).question == "Where do class 3 boats moor?"  # the older shape
