"""One answer's score: the scorer chosen by the question's kind.

- value: the number or short exact value must be stated (`match`); a judge is not asked,
  since a check of the value is more reliable than a small model's opinion of it;
- text: the judge's score when the caller has one, else embedding similarity and word
  overlap (`text`); the automatic measures stay in `parts` either way, for comparison;
- knowledge: as text, blended with the citation check (`citations`) when the question knows
  its page, and with groundedness (the share of the answer's claims its passages support)
  when the expert judged its claims — both only when the caller reports what the answer
  cited (a closed-book run cites nothing and passes `cited=None`, so it is not punished).

The result is a `QuestionResult` with the timing fields at their defaults; the caller adds
them with `msgspec.structs.replace`. `SCORER_VERSION` goes up whenever a change here could
change a score, so old results can be told apart and scored again.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.benchmark import Question, QuestionResult
from contracts.rules import clean_text
from services.benchmark.scoring.citations import Citation, Grounded, score_knowledge
from services.benchmark.scoring.match import as_number, score_value
from services.benchmark.scoring.text import Scored, score_text

SCORER_VERSION = 2  # 2: a citation of another page earns nothing; groundedness from claims
_MAX_ANSWER, _MAX_REASON, _MAX_REASONS = 8000, 300, 8


def score(
    question: Question,
    answer: str,
    *,
    similarity: float | None = None,
    cited: Sequence[Citation] | None = None,
    judged: tuple[float, str] | None = None,
    claims: Grounded | None = None,
) -> QuestionResult:
    """Score the answer to the question. `similarity` is the cosine of the answer's and the
    reference's embeddings, `cited` the (document id, page) pairs the answer cited, `judged`
    what `parse_judgement` read from the judge's reply, `claims` how many of the answer's
    claims its passages support (`citations.grounded`); each is None when not measured."""
    if not answer.strip():
        scored, scorer = (0.0, {}, ["the expert gave no answer"]), "empty"
    elif question.kind == "value":
        scored = score_value(answer, question.reference)
        scorer = "numeric" if as_number(question.reference) else "exact"
    else:
        scored, scorer = _free_text(question, answer, similarity, judged)
        page = (question.document_id, question.page) if question.document_id else None
        if question.kind == "knowledge" and cited is not None and (page or claims):
            scored = score_knowledge(scored, cited, page, claims)
            scorer += "+citation" * bool(page) + "+groundedness" * bool(claims)
    value, parts, reasons = scored
    return QuestionResult(
        question_id=question.id,
        domain=question.domain,
        answer=clean_text(answer)[:_MAX_ANSWER],
        score=min(1.0, max(0.0, value)),
        scorer=scorer,
        scorer_version=SCORER_VERSION,
        parts=parts,
        reasons=[_one_line(reason) for reason in reasons[:_MAX_REASONS]],
    )


def _free_text(
    question: Question, answer: str, similarity: float | None, judged: tuple[float, str] | None
) -> tuple[Scored, str]:
    measured, parts, reasons = score_text(answer, question.reference, similarity)
    if judged is None:
        scorer = "overlap" if similarity is None else "similarity+overlap"
        return (measured, parts, reasons), scorer
    verdict, reason = judged
    return (verdict, {**parts, "judge": verdict}, [f"judge: {reason}", *reasons]), "judge"


def _one_line(text: str) -> str:
    """A reason as the contract stores it: one line of at most 300 characters."""
    text = " ".join(clean_text(text).split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
