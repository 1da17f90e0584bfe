"""An answer's score (0-10) and the reasons for it, from parts a person can check.

Parts, each 0..1, or None where it does not apply:

- groundedness: the share of the model's claim sentences that attribution after generation
  found supported (`attribution`; the trace's claims of origin "model": quotes from the
  documents leading an answer are not the model's and are left out). Traces written before
  claims existed fall back to the share of the answer's sentences whose best cosine
  similarity to any passage given to the model is at least `GROUNDED_SIMILARITY`. 0.45 is calibrated on
  all-MiniLM-L6-v2, the default embedder: sentences restating a passage scored 0.44-0.79
  against it, unrelated ones under 0.3. It measures topical support, not entailment: a
  sentence on the passage's subject that the passage does not state can score as high.
  It applies when passages were given, and to every answer in "rag" mode (with no
  passages, nothing an answer claims is supported).
- citation_validity: valid cited numbers / all cited numbers (see `citations`). In "rag"
  mode an answer that cites nothing scores 0; elsewhere citing is optional.
- sanity: 1 for an answer of sane length that does not repeat itself; empty is 0, very
  short or cut off at the token limit costs 40%, and repeated word 3-grams beyond 10% of
  all 3-grams cost linearly up to everything at 50%.

The score is 10 x the weighted mean of the parts that apply (`WEIGHTS`, renormalised), to
one decimal. A refusal ("I don't know", "the sources do not ...") is judged on its own:
it is capped at 5 when declining was honest or cannot be judged, and at 2 when the
passages given look relevant to the question (best similarity to `question_vector` at
least `RELEVANT_SIMILARITY`; questions the passages answered scored 0.5-0.79, unrelated
ones under 0.25), since then the answer was probably there.

Pure: the caller embeds `sentences(answer)` (rows of `sentence_vectors`, in order; not
needed when no passages were given), the passages, and optionally the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from services.expert.answering.citations import CheckedAnswer, strip_markers

SCORER_VERSION = "2"  # 2: groundedness from the answer's claims

GROUNDED_SIMILARITY = 0.45
RELEVANT_SIMILARITY = 0.45
WEIGHTS = {"groundedness": 0.5, "citation_validity": 0.2, "sanity": 0.3}
HONEST_REFUSAL_CAP = 5.0
MISSED_ANSWER_CAP = 2.0
MIN_WORDS = 3
SHORT_OR_CUT_FACTOR = 0.6
REPETITION_FREE = 0.1
REPETITION_FATAL = 0.5
REPETITION_NOTED = 0.2

_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "fig"}
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_LIST_MARK = re.compile(r"^\s*(?:[-*•>]+|\d{1,3}[.)]|#+)\s+")
_FENCED = re.compile(r"```.*?```", re.DOTALL)
_WORDS = re.compile(r"[\w']+")
_REFUSAL = re.compile(
    r"\b(?:"
    r"i (?:do not|don't|really don't) know"
    r"|i (?:cannot|can't|can not|am unable to|'m unable to|won't|will not) "
    r"(?:answer|help with|help you with|say|tell|find)"
    r"|(?:the|these|those|provided|given) (?:provided |given )?(?:sources?|passages?|documents?)"
    r" (?:do not|don't|does not|doesn't|did not|didn't)"
    r"|none of the (?:sources|passages|documents)"
    r"|i (?:do not|don't) have (?:enough |any |the )?information"
    r"|there is no information"
    r")",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ScoreParts:
    groundedness: float | None
    citation_validity: float | None
    sanity: float
    refusal: bool


@dataclass(frozen=True)
class Score:
    score: float
    parts: ScoreParts
    reasons: list[str]


def sentences(text: str) -> list[str]:
    """The answer's sentences and list items, citation markers and code blocks left out."""
    found: list[str] = []
    for line in strip_markers(_FENCED.sub("\n", text)).splitlines():
        line = _LIST_MARK.sub("", line).strip()
        start = 0
        for boundary in _BOUNDARY.finditer(line):
            previous = line[start : boundary.start()].rsplit(None, 1)[-1].lower()
            if previous.rstrip(".!?") in _ABBREVIATIONS:
                continue
            found.append(line[start : boundary.start()].strip())
            start = boundary.end()
        found.append(line[start:].strip())
    return [s for s in found if re.search(r"\w", s)]


def is_refusal(sentence_list: list[str]) -> bool:
    """Declined rather than answered: a refusal phrase in the first sentence, or anywhere in
    an answer of at most two sentences."""
    head = sentence_list[:1] if len(sentence_list) > 2 else sentence_list
    return any(_REFUSAL.search(s.replace("\u2019", "'")) for s in head)


def repetition(text: str) -> float:
    """Share of the word 3-grams that repeat an earlier one (0 for fewer than 4)."""
    words = [w.lower() for w in _WORDS.findall(text)]
    grams = list(zip(words, words[1:], words[2:], strict=False))
    return 1 - len(set(grams)) / len(grams) if len(grams) >= 4 else 0.0


def score_answer(
    *,
    mode: str,
    answer: str,
    checked: CheckedAnswer | None,
    sentence_vectors: np.ndarray,
    passage_vectors: np.ndarray,
    max_tokens_hit: bool = False,
    question_vector: np.ndarray | None = None,
    supported: tuple[int, int] | None = None,
) -> Score:
    """`supported`: (supported, judged) claim sentences from attribution, when the answer
    has claims; then `sentence_vectors` is not needed."""
    said = sentences(answer)
    sentence_rows, passage_rows = _rows(sentence_vectors), _rows(passage_vectors)
    if supported is None and len(passage_rows) and len(sentence_rows) != len(said):
        raise ValueError(
            f"sentence_vectors has {len(sentence_rows)} rows for {len(said)} sentences; "
            "embed sentences(answer), one row each."
        )
    refusal = is_refusal(said) and not (checked and checked.markers > checked.removed)
    reasons: list[str] = []
    if refusal:
        cap = _judge_refusal(mode, passage_rows, question_vector, reasons)
    if supported is not None:
        groundedness = _claimed(mode, supported, len(passage_rows), refusal, reasons)
    else:
        groundedness = _groundedness(mode, said, sentence_rows, passage_rows, refusal, reasons)
    citation_validity = _citation_validity(mode, said, checked, refusal, reasons)
    sanity = _sanity(answer, max_tokens_hit, reasons)
    parts = ScoreParts(groundedness, citation_validity, sanity, refusal)
    score = _weighted(parts)
    if refusal:
        score = min(score, cap)
    return Score(round(min(max(score, 0.0), 10.0), 1), parts, reasons)


def _judge_refusal(
    mode: str, passages: np.ndarray, question: np.ndarray | None, reasons: list[str]
) -> float:
    if mode == "rag" and not len(passages):
        reasons.append("The expert declined to answer; no passages were found, which is honest.")
    elif mode == "rag" and question is not None:
        relevance = float(np.max(_unit(passages) @ _unit(_rows(question))[0]))
        if relevance >= RELEVANT_SIMILARITY:
            reasons.append(
                "The expert declined to answer, although the passages look relevant to the "
                "question."
            )
            return MISSED_ANSWER_CAP
        reasons.append(
            "The expert declined to answer; the passages do not seem to cover the question, "
            "so declining is honest."
        )
    else:
        reasons.append("The expert declined to answer.")
    return HONEST_REFUSAL_CAP


def _groundedness(
    mode: str,
    said: list[str],
    sentence_rows: np.ndarray,
    passage_rows: np.ndarray,
    refusal: bool,
    reasons: list[str],
) -> float | None:
    if refusal or not said or not (mode == "rag" or len(passage_rows)):
        return None
    if not len(passage_rows):
        reasons.append("No passages were given, so nothing in the answer is supported by them.")
        return 0.0
    best = (_unit(sentence_rows) @ _unit(passage_rows).T).max(axis=1)
    supported = int(np.count_nonzero(best >= GROUNDED_SIMILARITY))
    total = len(said)
    verb = "is" if supported == 1 else "are"
    noun = "sentence" if total == 1 else "sentences"
    reasons.append(f"{supported} of {total} {noun} {verb} supported by the source passages.")
    return supported / total


def _claimed(
    mode: str, supported: tuple[int, int], passages: int, refusal: bool, reasons: list[str]
) -> float | None:
    found, total = supported
    if refusal or not total or not (mode == "rag" or passages):
        return None
    verb = "is" if found == 1 else "are"
    noun = "sentence" if total == 1 else "sentences"
    reasons.append(f"{found} of {total} {noun} {verb} supported by the source passages.")
    return found / total


def _citation_validity(
    mode: str, said: list[str], checked: CheckedAnswer | None, refusal: bool, reasons: list[str]
) -> float | None:
    if checked is None or (refusal and not checked.markers):
        return None
    if checked.markers:
        if checked.removed:
            one = checked.removed == 1
            reasons.append(
                f"{checked.removed} citation{'' if one else 's'} named no source and "
                f"{'was' if one else 'were'} removed."
            )
        return (checked.markers - checked.removed) / checked.markers
    if mode == "rag" and said:
        reasons.append("The answer cites no source.")
        return 0.0
    return None


def _sanity(answer: str, max_tokens_hit: bool, reasons: list[str]) -> float:
    words = _WORDS.findall(strip_markers(answer))
    if not words:
        reasons.append("The answer is empty.")
        return 0.0
    sanity = 1.0
    if len(words) < MIN_WORDS:
        reasons.append("The answer is very short.")
        sanity *= SHORT_OR_CUT_FACTOR
    if max_tokens_hit:
        reasons.append("The answer was cut off at the length limit.")
        sanity *= SHORT_OR_CUT_FACTOR
    repeated = repetition(answer)
    if repeated >= REPETITION_NOTED:
        reasons.append("The answer repeats itself.")
    excess = (repeated - REPETITION_FREE) / (REPETITION_FATAL - REPETITION_FREE)
    return sanity * (1.0 - min(max(excess, 0.0), 1.0))


def _weighted(parts: ScoreParts) -> float:
    values = {
        "groundedness": parts.groundedness,
        "citation_validity": parts.citation_validity,
        "sanity": parts.sanity,
    }
    applied = {name: v for name, v in values.items() if v is not None}
    total_weight = sum(WEIGHTS[name] for name in applied)
    return 10.0 * sum(WEIGHTS[name] * v for name, v in applied.items()) / total_weight


def _rows(vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float64)
    return np.atleast_2d(array) if array.size else array.reshape(0, 0)


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)
