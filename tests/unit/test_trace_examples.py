"""An answer from the traces becomes an example an adapter can learn to cite from: asked with
the passages it was given, numbered as its prompt numbered them, and without the quotes from
the documents that led it (those are not the model's words)."""

import msgspec

from contracts.answers import Citation, GivenSource, ScoreView, TraceView
from contracts.dataset import TracesSource
from contracts.prompting import DOCUMENTS_SAY, MODEL_SAYS, RAG_RULES, question_in
from services.dataset.candidates import traces_candidates

PASSAGE = GivenSource(
    n=2, document_id="d1", filename="harbour.pdf", page=4, chunk_id="d1-4-0",
    text="The Quillmark tower guards the northern harbour.",
)  # fmt: skip
CITED = Citation(n=2, document_id="d1", filename="harbour.pdf", page=4, chunk_id="d1-4-0")


def trace(answer: str, sources: list[GivenSource]) -> TraceView:
    return TraceView(
        answer_id="a1", expert_id="e1", kind="answer", mode="rag",
        question="Which tower guards the north?", answer=answer, citations=[CITED],
        sources=sources, removed_citations=0, refused=None, violations=[], backend="local",
        model="m", adapter_id=None, prompt_tokens=1, completion_tokens=1, ttft_ms=1.0,
        latency_ms=1.0, tokens_per_s=1.0, created_at="2026-12-07T00:00:00+00:00",
        feedback=None,
    )  # fmt: skip


def good(t: TraceView) -> list[TraceView]:
    """`t`, scored well enough to learn from."""
    score = ScoreView(score=9.5, groundedness=1.0, citation_validity=1.0, sanity=1.0,
                      refusal=False, reasons=[], scorer_version="2")  # fmt: skip
    return [msgspec.structs.replace(t, score=score)]


def test_a_rag_answer_is_asked_with_its_numbered_passages_and_keeps_its_citation():
    led = f"{DOCUMENTS_SAY}\n> The Quillmark tower guards the northern harbour. [2]\n\n"
    led += f"{MODEL_SAYS}\nThe Quillmark tower does [2]."

    [example] = traces_candidates(good(trace(led, [PASSAGE])), TracesSource(), "You are X.")

    assert question_in(example.question) == "Which tower guards the north?"
    assert "[2] (harbour.pdf, page 4)\nThe Quillmark tower" in example.question
    assert example.answer == "The Quillmark tower does [2]."  # the model's words only
    assert example.system == f"You are X.\n\n{RAG_RULES}"


def test_a_closed_book_answer_stays_a_bare_question():
    [example] = traces_candidates(good(trace("Quillmark.", [])), TracesSource(), "You are X.")

    assert (example.question, example.answer, example.system) == (
        "Which tower guards the north?", "Quillmark.", "You are X.",
    )  # fmt: skip
