"""Attribution after generation: every sentence of an answer tied to the passages that
support it, or flagged as unsupported — for any model, since it reads only the answer and
the passages its prompt numbered ([1], [2], ..., see `sources`).

- `split_sentences` cuts an answer into sentences and list items, each exactly as written
  (citation markers included, a list item's bullet or number left out). Abbreviations
  ("e.g.", "i.e.", "approx."), decimals and versions ("3.5", "v2.1.0") and anything inside
  `inline code` never end a sentence; a ``` fenced block ``` is one piece of its own; a
  marker written after the full stop ("... blue. [1]") stays with its sentence.
- `attribute` scores each sentence that makes a claim against each passage and returns one
  `Claim` per sentence. Support of sentence s by passage p:

      support(s, p) = COSINE_WEIGHT * cosine(s, p) + (1 - COSINE_WEIGHT) * overlap(s, p)

  cosine = the embedder's best cosine between s and any one sentence of p (all answer and
  passage sentences in one call; against a whole passage a restated sentence scores little
  more than an invented one on its topic), overlap = the share of s's content words
  (lowercased, stopwords dropped, plural "s" off) found in p. The sentence is supported when
  its best passage reaches `SUPPORTED_SCORE`; it then cites the passages the model cited
  that reach it too (the model's own citation, kept where it is right), else the best
  passage alone (a wrong or missing citation replaced). An unsupported sentence cites
  nothing.
- Not a claim (never scored): questions, lead-ins ending in ":", refusals ("the sources do
  not cover ..."), the sentence that stands for a marker-only answer (`ONLY_POINTED`), sentences with fewer than `MIN_CLAIM_WORDS` content words ("Sure.",
  "Here is how."), code blocks.
- `supported_share(claims)`: supported / (supported + unsupported), for groundedness.

The thresholds were measured on `tests/support/attribution_cases.py` (manual passages, with
sentences copied or paraphrased from one of them, and invented ones sharing their
vocabulary) with all-MiniLM-L6-v2, the default embedder: `python -m benchmarks attribution`
prints precision and recall of "supported" over the sweep; figures in docs/benchmarks.md.

Pure: the embedder is passed in (texts -> unit vectors, one row per text, as
`Embedder.encode`) and called once per answer, with the claim sentences and then every
passage's sentences (`split_sentences`); no other I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from contracts.answers import Claim, Support
from contracts.prompting import ONLY_POINTED
from services.expert.answering.citations import check_citations, strip_markers
from services.expert.answering.scoring import is_refusal
from services.expert.answering.sources import Source

Embed = Callable[[Sequence[str]], np.ndarray]
POINTED = ONLY_POINTED.split("{")[0]  # a marker-only answer, said in words

# Measured with `python -m benchmarks attribution` (all-MiniLM-L6-v2, 2026-12-07, 54 labelled
# sentences), sweeping weights 0..1 and thresholds 0.25..0.9 in steps of 0.025: weight 0.5 at
# 0.625 gives precision and recall 0.97 (F1 0.972); weight 0.25 at 0.6 ties on F1 (0.973) with
# precision 0.95, and a sentence wrongly shown as supported misleads more than one wrongly
# flagged, so 0.5. Overlap alone peaks at F1 0.94, cosine alone at 0.93 (recall 0.86).
# The sweep is in docs/benchmarks.md.
COSINE_WEIGHT = 0.5
SUPPORTED_SCORE = 0.625
MIN_CLAIM_WORDS = 2  # "Sure.", "Here is how." and headings have fewer content words


@dataclass(frozen=True)
class Reading:
    """An answer and the passages it was given, split into sentences, waiting for their
    vectors: `texts` are what to embed (the claim sentences, then every passage's
    sentences), in one call, so the caller may embed them however it can (in-process, or
    through the knowledge service) and pass the rows to `claims`."""

    pieces: list[str]  # the answer's sentences exactly as written
    said: list[str]  # the same, citation markers left out
    claimed: list[int]  # which of them make a claim
    sources: Sequence[Source]
    passage_sentences: list[list[str]]  # per source, its sentences

    @property
    def claim_texts(self) -> list[str]:
        return [self.said[i] for i in self.claimed]

    @property
    def texts(self) -> list[str]:
        if not self.claimed or not self.sources:
            return []
        return [*self.claim_texts, *(s for p in self.passage_sentences for s in p)]

    def claims(self, vectors: np.ndarray | None) -> list[Claim]:
        """One `Claim` per sentence, in order, from the rows of `embed(self.texts)`."""
        claims = [Claim(text=t) for t in self.said]
        if not self.claimed:
            return claims
        if not self.sources:
            return [
                Claim(text=t, support="unsupported") if i in self.claimed else c
                for i, (t, c) in enumerate(zip(self.said, claims, strict=True))
            ]
        rows = _unit(np.asarray(vectors, dtype=np.float64))
        cosine = passage_cosine(rows[: len(self.claimed)], rows[len(self.claimed) :], self.owner)
        overlap = word_overlap(self.claim_texts, [s.text for s in self.sources])
        scores = combine(cosine, overlap, COSINE_WEIGHT)
        numbers = [s.n for s in self.sources]
        for row, i in enumerate(self.claimed):
            cited = [s.n for s in check_citations(self.pieces[i], list(self.sources)).cited]
            found = _citations(scores[row], numbers, cited)
            support: Support = "supported" if found else "unsupported"
            claims[i] = Claim(text=self.said[i], citations=list(found), support=support)
        return claims

    @property
    def owner(self) -> np.ndarray:
        """For every passage sentence in `texts`, the index of its passage."""
        return np.repeat(
            np.arange(len(self.passage_sentences)), [len(p) for p in self.passage_sentences]
        )


def read(answer: str, sources: Sequence[Source]) -> Reading:
    """The answer and passages split, ready to embed (see `Reading`)."""
    pieces = split_sentences(answer)
    said = [piece if _is_code(piece) else strip_markers(piece).strip() for piece in pieces]
    claimed = [i for i, (p, t) in enumerate(zip(pieces, said, strict=True)) if _is_claim(p, t)]
    parts = [split_sentences(s.text) or [s.text] for s in sources]
    return Reading(pieces, said, claimed, sources, parts)


def attribute(answer: str, sources: Sequence[Source], embed: Embed) -> list[Claim]:
    """One `Claim` per sentence of `answer`, in order, judged against `sources` (the passages
    the model was given, numbered as its prompt numbered them). `embed` is called at most
    once, with the claim sentences followed by the passages' sentences."""
    reading = read(answer, sources)
    texts = reading.texts
    return reading.claims(embed(texts) if texts else None)


def with_citations(reading: Reading, claims: Sequence[Claim], text: str) -> str:
    """`text` (the answer `reading` read) with each sentence's markers made its claim's: a
    supported sentence cites what supports it, an unsupported one cites nothing; everything
    else (lists, code, spacing) exactly as written."""
    out: list[str] = []
    position = 0
    for piece, claim in zip(reading.pieces, claims, strict=True):
        start = text.find(piece, position)
        if start < 0 or claim.support not in ("supported", "unsupported"):
            continue
        out.append(text[position:start])
        body = strip_markers(piece).rstrip()
        if claim.citations:
            marker = "[" + ", ".join(map(str, claim.citations)) + "]"
            stop = len(body.rstrip(".!?")) if body.endswith((".", "!", "?")) else len(body)
            body = f"{body[:stop]} {marker}{body[stop:]}"
        out.append(body)
        position = start + len(piece)
    out.append(text[position:])
    return "".join(out)


def supported_share(claims: Sequence[Claim]) -> float | None:
    """The share of claim sentences that are supported; None when nothing was claimed."""
    judged = [c for c in claims if c.support in ("supported", "unsupported")]
    if not judged:
        return None
    return sum(c.support == "supported" for c in judged) / len(judged)


def support_scores(sentences: Sequence[str], passages: Sequence[str], embed: Embed) -> np.ndarray:
    """support(s, p) for every sentence (rows) and passage (columns); one `embed` call."""
    return combine(*similarities(sentences, passages, embed), COSINE_WEIGHT)


def similarities(
    sentences: Sequence[str], passages: Sequence[str], embed: Embed
) -> tuple[np.ndarray, np.ndarray]:
    """(cosine, overlap), each sentences x passages; cosine is the best over the passage's
    own sentences."""
    parts = [split_sentences(p) or [p] for p in passages]
    owner = np.repeat(np.arange(len(passages)), [len(p) for p in parts])
    vectors = _unit(np.asarray(embed([*sentences, *(s for p in parts for s in p)]), float))
    n = len(sentences)
    return passage_cosine(vectors[:n], vectors[n:], owner), word_overlap(sentences, passages)


def passage_cosine(
    sentences: np.ndarray, passage_rows: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    """The best cosine of each sentence (unit rows) with any sentence of each passage
    (`passage_rows`, unit, the passage of each given by `owner`): sentences x passages."""
    each = sentences @ passage_rows.T
    cosine = np.full((len(sentences), int(owner.max()) + 1 if len(owner) else 0), -1.0)
    np.maximum.at(cosine.T, owner, each.T)
    return cosine


def word_overlap(sentences: Sequence[str], passages: Sequence[str]) -> np.ndarray:
    """The share of each sentence's content words found in each passage."""
    passage_words = [content_words(p) for p in passages]
    return np.array(
        [[_share(content_words(s), words) for words in passage_words] for s in sentences],
        dtype=np.float64,
    ).reshape(len(sentences), len(passages))


def combine(cosine: np.ndarray, overlap: np.ndarray, cosine_weight: float) -> np.ndarray:
    return cosine_weight * cosine + (1.0 - cosine_weight) * overlap


def _citations(scores: np.ndarray, numbers: list[int], cited: list[int]) -> tuple[int, ...]:
    best = int(np.argmax(scores))
    if scores[best] < SUPPORTED_SCORE:
        return ()
    score_of = dict(zip(numbers, scores.tolist(), strict=True))
    kept = [n for n in cited if score_of[n] >= SUPPORTED_SCORE]
    return tuple(kept) or (numbers[best],)


# --- words -------------------------------------------------------------------------------

_STOPWORDS = """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during each
    either else etc e.g eg few for from further get gets got had has have having he her here
    hers him his how however i i.e ie if in into is it its itself just let like may me might
    more most much must my no nor not now of off often on once one only or other our ours out
    over own per please same shall she should so some such than that the their theirs them
    then there these they this those through thus to too under until up upon us use used uses
    using very via was we were what when where whether which while who whom why will with
    within without would yes yet you your yours"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[a-z0-9]+(?:[._'-][a-z0-9]+)*")


def content_words(text: str) -> set[str]:
    """Lowercased words that carry meaning: stopwords and single letters dropped, markers
    and possessive/plural endings off ("passages" and "passage" are one word)."""
    words = set()
    for word in _WORD.findall(strip_markers(text).lower()):
        word = word.removesuffix("'s")
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def _share(sentence: set[str], passage: set[str]) -> float:
    return len(sentence & passage) / len(sentence) if sentence else 0.0


def _is_claim(piece: str, text: str) -> bool:
    if _is_code(piece) or not text:
        return False
    tail = text.rstrip("\"')]*_ ")
    if tail.endswith(("?", ":")) or is_refusal([text]) or text.startswith(POINTED):
        return False
    return len(content_words(text)) >= MIN_CLAIM_WORDS


def _is_code(piece: str) -> bool:
    return piece.startswith("```")


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.atleast_2d(rows)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


# --- sentences ---------------------------------------------------------------------------

_ABBREVIATIONS = (
    "e.g i.e eg ie cf vs approx incl esp dr mr mrs ms prof st fig figs eq sec ch vol p pp al ca"
)
ABBREVIATIONS = frozenset(_ABBREVIATIONS.split())
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LIST_MARK = re.compile(r"[ \t]*(?:[-*+\u2022>]+|\d{1,3}[.)]|[a-z]\)|#{1,6})[ \t]+")
_MARKER = r"\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\]"
# The end of a sentence: its punctuation, closing quotes or brackets, markers written after
# it; then space and something that can start a sentence (a marker cannot).
_END = re.compile(
    r"[.!?]+[\"')\]\u201d\u2019]*(?:[ \t]*" + _MARKER + r")*"
    r"(?=\s+(?!\[\s*\d)[\"'(\[`*_\u201c\u2018A-Z0-9])"
)


def split_sentences(text: str) -> list[str]:
    """The sentences, list items and fenced code blocks of `text`, in order, each exactly as
    written (surrounding space and a list item's bullet or number left out)."""
    pieces: list[str] = []
    position = 0
    for fence in _FENCE.finditer(text):
        pieces += _prose(text, position, fence.start())
        pieces.append(fence.group(0).strip())
        position = fence.end()
    pieces += _prose(text, position, len(text))
    return [p for p in pieces if re.search(r"\w", strip_markers(p))]


def _prose(text: str, start: int, end: int) -> list[str]:
    # Code spans masked (same length), so nothing inside them ends a sentence.
    masked = _INLINE_CODE.sub(lambda m: "`" + "x" * (len(m.group(0)) - 2) + "`", text[start:end])
    pieces: list[str] = []
    for a, b in _blocks(masked):
        sentence_start = a
        for match in _END.finditer(masked, a, b):
            before = masked[sentence_start : match.start()].rsplit(None, 1)
            word = before[-1].lstrip("(\"'\u201c").lower() if before else ""
            if word.rstrip(".") in ABBREVIATIONS:
                continue
            pieces.append(text[start + sentence_start : start + match.end()].strip())
            sentence_start = match.end()
        pieces.append(text[start + sentence_start : start + b].strip())
    return pieces


def _blocks(masked: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, list item or heading. A line continues the block above
    when it starts in lower case and the line above did not end a sentence (wrapped prose)."""
    blocks: list[list[int]] = []
    offset = 0
    previous = ""
    for line in masked.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        mark = _LIST_MARK.match(body)
        stripped = body.strip()
        if not stripped:
            previous = ""
        elif mark is None and blocks and previous and _continues(previous, stripped):
            blocks[-1][1] = offset + len(body)
            previous = stripped
        else:
            begin = offset + (mark.end() if mark else len(body) - len(body.lstrip()))
            blocks.append([begin, offset + len(body)])
            previous = stripped
        offset += len(line)
    return [(a, b) for a, b in blocks]


def _continues(previous: str, line: str) -> bool:
    return line[0].islower() and not previous.rstrip("\"')]").endswith((".", "!", "?", ":"))
