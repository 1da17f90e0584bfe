"""Questions about a passage whose answers are the passage's own words, so they cannot be
made up; and the prompt and reply parsing for when a capable model writes them instead.

Every offline answer is one or two whole sentences of the passage, with its whitespace
collapsed (a line break inside a sentence becomes a space); only the question is worded
here. A sentence qualifies when it starts with a capital letter, a digit or a quote, ends
with a full stop, and has `MIN_WORDS` to `MAX_WORDS` words: a passage cut mid-sentence
(chunks overlap) never yields its fragments. Patterns, in the order they are preferred:

1. Definitions: a sentence `X is a/an/the ...` (also `X are a/an/the ...`,
   `X are <a few words> that/which/who ...`, `X means`, `X refers to`, `X is defined as`),
   where X is one to six words and not a pronoun:
   "What is X?" (or "What are X?"), answered by that sentence.
2. Headings: a short line (at most `MAX_HEADING_WORDS` words) with no closing
   punctuation, starting a paragraph and followed by text: "What does the document say
   about <heading>?", answered by the first sentence after it (two when the first is short).
   A heading in sentence case reads in lower case ("Penalties" → "about penalties").
3. Key sentences: sentences holding a number, a month or a named term (an acronym or a
   capitalised word inside the sentence): "What does <filename> say about <phrase>?", where
   the phrase is the sentence's subject (the words before its first common verb) or else
   its first named term; a sentence with neither is skipped.

No answer is used twice, nor a question. The same text always gives the same pairs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from contracts.answers import Citation
from contracts.dataset import Provenance
from contracts.rules import clean_text
from services.dataset.candidates import Candidate
from services.dataset.rules import prompt_key

MIN_WORDS = 6
MAX_WORDS = 80
SHORT_ANSWER_WORDS = 12
MAX_HEADING_WORDS = 10
MAX_HEADING_CHARS = 80
MAX_TERM_WORDS = 6
MAX_PASSAGE_CHARS = 16_000

_SPACE = re.compile(r"\s+")
_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")
_OPENERS = "\"'“‘("
_ABBREVIATIONS = {"e.g", "i.e", "cf", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig"}
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+")
_PRONOUNS = {
    "it", "this", "that", "these", "those", "there", "here", "he", "she", "they", "we",
    "you", "i", "which", "what", "who", "such", "each", "its", "their", "our", "his", "her",
}  # fmt: skip
_CONNECTORS = {
    "a", "an", "the", "of", "and", "or", "to", "in", "for", "with", "by", "on", "at",
    "from", "that", "is", "are", "as", "but",
}  # fmt: skip
_OPENING_CLAUSES = {
    "if", "when", "since", "because", "although", "after", "before", "unless", "while", "as",
    "for", "in", "on", "at", "by", "from", "under", "within", "during", "to", "once", "until",
}  # fmt: skip
_VERBS = {
    "is", "are", "was", "were", "has", "have", "had", "must", "can", "cannot", "will",
    "should", "may", "might", "shall", "would", "could", "does", "do", "did", "applies",
    "apply", "includes", "include", "requires", "require", "needs", "need", "covers",
    "cover", "means", "takes", "take", "gives", "give", "pays", "pay", "runs", "starts",
    "ends", "lasts", "became", "becomes", "rose", "fell", "increased", "decreased",
}  # fmt: skip
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_NAMES = set(_MONTHS.split("|"))
_KEY = re.compile(rf"\d|\b(?:{_MONTHS})\b")
_PUNCTUATION = ".,;:!?()[]\"'“”‘’"
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]+s?$")
_DEFINITION = re.compile(
    rf"^(?P<term>\S+(?:\s+\S+){{0,{MAX_TERM_WORDS - 1}}}?)\s+"
    r"(?:(?P<verb>is|are)\s+(?:a|an|the|any|one)\s|(?P<plural>are)\s+(?:\S+\s+){1,3}"
    r"(?:that|which|who|whose)\s|means\s|refers\s+to\s|is\s+defined\s+as\s)"
)


def questions_from_passage(text: str, *, limit: int, filename: str = "") -> list[tuple[str, str]]:
    """Up to `limit` (question, answer) pairs, each answer the passage's own sentences.
    `filename` names the document in key-sentence questions ("the document" without it)."""
    blocks = _blocks(text)
    found: list[tuple[str, str]] = []
    for pairs in (_definitions(blocks), _headings(blocks), _key_sentences(blocks, filename)):
        found += pairs
    return _distinct(found)[: max(limit, 0)]


def knowledge_candidates(passages: list[Any], *, questions: int, system: str) -> list[Candidate]:
    """Up to `questions` offline examples spread over the passages: each passage gives its
    best pair, then each its second best, and so on, a question already asked skipped.
    `passages` are mappings or objects with document_id, filename, page, chunk_id and text."""
    per_passage = [
        questions_from_passage(_get(p, "text"), limit=questions, filename=_get(p, "filename"))
        for p in passages
    ]
    chosen: list[Candidate] = []
    asked: set[str] = set()
    for rank in range(max(map(len, per_passage), default=0)):
        for passage, pairs in zip(passages, per_passage, strict=True):
            if len(chosen) == questions:
                return chosen
            if rank < len(pairs) and prompt_key(pairs[rank][0]) not in asked:
                asked.add(prompt_key(pairs[rank][0]))
                chosen.append(_cited(passage, *pairs[rank], system=system))
    return chosen


def backend_prompt(passage_text: str) -> list[dict]:
    """Messages asking a capable model for one question the passage answers, and its answer
    from the passage alone, as JSON."""
    return [
        {
            "role": "system",
            "content": (
                "You write study questions from a document. Reply with JSON only, in the "
                'form {"question": "...", "answer": "..."}.'
            ),
        },
        {
            "role": "user",
            "content": (
                "Write ONE question that a learner would ask and that this passage answers, "
                "and the answer, using only what the passage says. Do not add facts that "
                "are not in it.\n\nPassage:\n<<<\n" + passage_text[:MAX_PASSAGE_CHARS] + "\n>>>"
            ),
        },
    ]


def parse_backend_reply(text: str) -> tuple[str, str] | None:
    """The (question, answer) in a model's reply: the first JSON object in it with both as
    non-empty text, wherever it sits (code fences and chatter around it are fine); None
    when there is none."""
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if not isinstance(value, dict):
            continue
        question, answer = value.get("question"), value.get("answer")
        if isinstance(question, str) and isinstance(answer, str):
            question, answer = clean_text(question).strip(), clean_text(answer).strip()
            if question and answer:
                return question, answer
    return None


# ---- the passage's structure ---------------------------------------------------------------


class _Block:
    """A paragraph: its sentences (whitespace collapsed), and the heading above it, if any."""

    def __init__(self, heading: str | None, lines: list[str]) -> None:
        self.heading = heading
        self.sentences = _sentences(" ".join(lines))


def _blocks(text: str) -> list[_Block]:
    lines = [line.strip() for line in text.splitlines()]
    blocks: list[_Block] = []
    heading: str | None = None
    paragraph: list[str] = []

    def close() -> None:
        nonlocal heading, paragraph
        if paragraph:
            blocks.append(_Block(heading, paragraph))
            heading, paragraph = None, []

    for n, line in enumerate(lines):
        following = lines[n + 1] if n + 1 < len(lines) else ""
        if not line:
            close()
        elif _after_sentence(paragraph) and _is_heading(line, following):
            close()
            heading = line
        else:
            paragraph.append(line)
    close()
    return blocks


def _after_sentence(paragraph: list[str]) -> bool:
    return not paragraph or re.search(r"[.!?:][\"'”’)\]]*$", paragraph[-1]) is not None


def _is_heading(line: str, following: str) -> bool:
    words = line.split()
    return (
        len(words) <= MAX_HEADING_WORDS
        and len(line) <= MAX_HEADING_CHARS
        and not re.search(r"[.,;:!?…]$", line)
        and any(ch.isalpha() for ch in line)
        and _NUMBERING.sub("", line)[:1].isupper()
        and words[-1].lower() not in _CONNECTORS
        and not re.match(r"(?i)page\s+\d", line)
        and _starts_sentence(following)
    )


def _sentences(text: str) -> list[str]:
    """`text` with whitespace collapsed, cut after each sentence end."""
    text = _SPACE.sub(" ", text).strip()
    found, start = [], 0
    for end in _END.finditer(text):
        if _ends_sentence(text, start, end):
            found.append(text[start : end.end()].strip())
            start = end.end()
    if text[start:].strip():
        found.append(text[start:].strip())
    return found


def _ends_sentence(text: str, start: int, end: re.Match[str]) -> bool:
    if end.end() == len(text):
        return True
    if not _starts_sentence(text[end.end() :].lstrip()):
        return False
    if end.group().startswith("."):
        before = text[start : end.start()].rsplit(" ", 1)[-1]
        if before.lower() in _ABBREVIATIONS or (len(before) == 1 and before.isupper()):
            return False
    return True


def _starts_sentence(text: str) -> bool:
    return bool(text) and (text[0].isupper() or text[0].isdigit() or text[0] in _OPENERS)


def _answerable(sentence: str) -> bool:
    """A whole sentence of a useful length that states something (not a question, not cut)."""
    return (
        _starts_sentence(sentence)
        and re.search(r"\.[\"'”’)\]]*$", sentence) is not None
        and MIN_WORDS <= len(sentence.split()) <= MAX_WORDS
    )


# ---- the three patterns --------------------------------------------------------------------


def _definitions(blocks: list[_Block]) -> list[tuple[str, str]]:
    found = []
    for sentence in (s for block in blocks for s in block.sentences if _answerable(s)):
        match = _DEFINITION.match(sentence)
        if match and _names_something(match.group("term")):
            verb = "are" if "are" in (match.group("verb"), match.group("plural")) else "is"
            found.append((f"What {verb} {_as_object(match.group('term'))}?", sentence))
    return found


def _headings(blocks: list[_Block]) -> list[tuple[str, str]]:
    found = []
    for block in blocks:
        if block.heading is None or not block.sentences or not _answerable(block.sentences[0]):
            continue
        answer = block.sentences[0]
        second = block.sentences[1] if len(block.sentences) > 1 else ""
        if len(answer.split()) < SHORT_ANSWER_WORDS and _answerable(second):
            answer += " " + second
        topic = _NUMBERING.sub("", block.heading)
        if topic.split()[1:] == [w.lower() for w in topic.split()[1:]]:
            topic = _as_object(topic)
        found.append((f"What does the document say about {topic}?", answer))
    return found


def _key_sentences(blocks: list[_Block], filename: str) -> list[tuple[str, str]]:
    name = filename or "the document"
    found = []
    for sentence in (s for block in blocks for s in block.sentences if _answerable(s)):
        words = sentence.split()
        if not (_KEY.search(sentence) or _named_terms(words)):
            continue
        phrase = _subject(words) or next(iter(_named_terms(words)), None)
        if phrase:
            found.append((f"What does {name} say about {phrase}?", sentence))
    return found


def _subject(words: list[str]) -> str | None:
    """The words before the sentence's first common verb, when they look like a subject."""
    for n, word in enumerate(words[: MAX_TERM_WORDS + 1]):
        if word.lower() in _VERBS:
            subject = " ".join(words[:n])
            if n and words[0].lower() not in _OPENING_CLAUSES and _names_something(subject):
                return _as_object(subject)
            return None
    return None


def _named_terms(words: list[str]) -> list[str]:
    """Runs of capitalised words inside the sentence (not its first word), and acronyms
    anywhere in it; punctuation ends a run."""
    terms, run = [], []
    for n, raw in enumerate(words):
        word = raw.strip(_PUNCTUATION)
        named = bool(word) and (
            bool(_ACRONYM.match(word)) or (n > 0 and word[0].isupper() and word.isalpha())
        )
        if named and word.lower() not in _PRONOUNS and word not in _MONTH_NAMES:
            run.append(word)
            if raw.endswith(word):
                continue
        if run:
            terms.append(" ".join(run))
            run = []
    return terms + [" ".join(run)] if run else terms


def _names_something(phrase: str) -> bool:
    words = phrase.split()
    if not words or len(words) > MAX_TERM_WORDS or re.search(r"[,;:()]", phrase):
        return False
    head = words[1] if words[0].lower() in ("a", "an", "the") and len(words) > 1 else words[0]
    return words[0].lower() not in _PRONOUNS and head.lower() not in _PRONOUNS


def _as_object(phrase: str) -> str:
    """A sentence-initial phrase as it reads inside a question: "The VAT return" becomes
    "the VAT return", "Input tax" becomes "input tax"; acronyms and names inside stay."""
    first, _, rest = phrase.partition(" ")
    if first[1:].islower() or len(first) == 1:
        first = first.lower()
    return f"{first} {rest}" if rest else first


def _distinct(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    questions, answers, found = set(), set(), []
    for question, answer in pairs:
        if prompt_key(question) not in questions and answer not in answers:
            questions.add(prompt_key(question))
            answers.add(answer)
            found.append((question, answer))
    return found


def _cited(passage: Any, question: str, answer: str, *, system: str) -> Candidate:
    document_id, filename, page, chunk_id = (
        _get(passage, f) for f in ("document_id", "filename", "page", "chunk_id")
    )
    return Candidate(
        source="knowledge",
        question=question,
        answer=f"{answer} [1]",
        system=system,
        group=chunk_id,
        provenance=Provenance(
            document_id=document_id, filename=filename, page=page, chunk_id=chunk_id
        ),
        citations=[
            Citation(n=1, document_id=document_id, filename=filename, page=page, chunk_id=chunk_id)
        ],
        tags=["offline"],
    )


def _get(passage: Any, field: str) -> Any:
    return passage[field] if isinstance(passage, Mapping) else getattr(passage, field)
