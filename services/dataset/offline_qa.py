"""Questions about a passage whose answers are the passage's own words, so they cannot be
made up (when a capable model writes them instead: `model_qa.py`).

Every offline answer is one or two whole sentences of the passage, answerable as
`sentences.py` reads them (whole, stating something, of a useful length); only the question is
worded here. Patterns, in the order they are preferred:

1. Definitions: a sentence `X is a/an/the ...` (also `X are a/an/the ...`,
   `X are <a few words> that/which/who ...`, `X means`, `X refers to`, `X is defined as`),
   where X is one to six words and not a pronoun:
   "What is X?" (or "What are X?"), answered by that sentence.
2. Headings: a short line with no closing punctuation, starting a paragraph and followed by
   text (`sentences.py`): "What does the document say about <heading>?", answered by the
   first sentence after it (two when the first is short). A heading in sentence case reads
   in lower case ("Penalties" → "about penalties").
3. Key sentences: sentences holding a number, a month or a named term (an acronym or a
   capitalised word inside the sentence): "What does <filename> say about <phrase>?", where
   the phrase is the sentence's subject (the words before its first common verb) or else
   its first named term; a sentence with neither is skipped.

No answer is used twice, nor a question. The same text always gives the same pairs.
"""

from __future__ import annotations

import re
from typing import Any

from services.dataset.candidates import Candidate, knowledge_candidate, passage_field
from services.dataset.rules import prompt_key
from services.dataset.sentences import NUMBERING, Block, answerable, blocks

SHORT_ANSWER_WORDS = 12
MAX_TERM_WORDS = 6

_PRONOUNS = {
    "it", "this", "that", "these", "those", "there", "here", "he", "she", "they", "we",
    "you", "i", "which", "what", "who", "such", "each", "its", "their", "our", "his", "her",
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
    paragraphs = blocks(text)
    found = _definitions(paragraphs) + _headings(paragraphs) + _key_sentences(paragraphs, filename)
    return _distinct(found)[: max(limit, 0)]


def knowledge_candidates(passages: list[Any], *, questions: int, system: str) -> list[Candidate]:
    """Up to `questions` offline examples spread over the passages: each passage gives its
    best pair, then each its second best, and so on, a question already asked skipped.
    `passages` are mappings or objects with document_id, filename, page, chunk_id and text."""
    per_passage = [
        questions_from_passage(
            passage_field(p, "text"), limit=questions, filename=passage_field(p, "filename")
        )
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
                question, answer = pairs[rank]
                chosen.append(knowledge_candidate(passage, question, f"{answer} [1]",
                                                  system=system, tag="offline"))  # fmt: skip
    return chosen


# ---- the three patterns --------------------------------------------------------------------


def _definitions(blocks: list[Block]) -> list[tuple[str, str]]:
    found = []
    for sentence in (s for block in blocks for s in block.sentences if answerable(s)):
        match = _DEFINITION.match(sentence)
        if match and _names_something(match.group("term")):
            verb = "are" if "are" in (match.group("verb"), match.group("plural")) else "is"
            found.append((f"What {verb} {_as_object(match.group('term'))}?", sentence))
    return found


def _headings(blocks: list[Block]) -> list[tuple[str, str]]:
    found = []
    for block in blocks:
        if block.heading is None or not block.sentences or not answerable(block.sentences[0]):
            continue
        answer = block.sentences[0]
        second = block.sentences[1] if len(block.sentences) > 1 else ""
        if len(answer.split()) < SHORT_ANSWER_WORDS and answerable(second):
            answer += " " + second
        topic = NUMBERING.sub("", block.heading)
        if topic.split()[1:] == [w.lower() for w in topic.split()[1:]]:
            topic = _as_object(topic)
        found.append((f"What does the document say about {topic}?", answer))
    return found


def _key_sentences(blocks: list[Block], filename: str) -> list[tuple[str, str]]:
    name = filename or "the document"
    found = []
    for sentence in (s for block in blocks for s in block.sentences if answerable(s)):
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
