"""Questions a person would ask about a passage, whose answers are the passage's own words, so
they cannot be made up (when a capable model writes them instead: `model_qa.py`); each then
becomes a RAFT-style example among distractor passages (`raft.py`).

Every offline answer is one to three whole sentences of the passage, answerable as
`sentences.py` reads them; only the question is worded here, from what the sentence teaches.
Contents, index, licence and front-matter passages and sentences (`boilerplate.py`) give
none. Patterns, in the order they are preferred:

1. Procedures: "To X, run/use/click …" → "How do you X?"; "You can X by …" → "How can you
   X?"; a section whose first sentences are imperative steps ("Click Save. Type a name.")
   → "How do you <heading>?" ("How to …" headings), "How do you go about <heading>?"
   ("Saving files") or "What are the steps for <heading>?".
2. Caveats: "X does not Y when …" → "When does X not Y?"; "X does not Y unless …" →
   "When does X Y?"; "X cannot Y." → "Can X Y?" (likewise is/are/will/should not); "X Ys
   only if …" → "When does X Y?".
3. Definitions: `X is a/an/the …` (also `X are a/an/the …`, `X are <a few words>
   that/which/who …`, `X means`, `X refers to`, `X is defined as`), X one to six words and
   not a pronoun: "What is X?" (or "What are X?").
4. Facts: "X is 20% …" → "What is X?"; "X is paid every April." → "When is X paid?";
   "X requires/includes/sells … Y." → "What does X require/include/sell?".
5. Headings over a paragraph (not "Introduction", "Overview" and the like): "What is/are
   <heading>?" when the paragraph speaks of it, else "What do you need to know about
   <heading>?", answered by its first sentence (two when the first is short).

No answer is used twice, nor a question. The same text always gives the same pairs.
"""

from __future__ import annotations

import re
from typing import Any

from services.dataset import wording
from services.dataset.boilerplate import boilerplate, boilerplate_sentence
from services.dataset.candidates import Candidate, passage_field
from services.dataset.raft import Written, raft_candidates
from services.dataset.rules import prompt_key
from services.dataset.sentences import Block, answerable, blocks

SHORT_ANSWER_WORDS = 12
MAX_STEPS = 3

_IMPERATIVES = {
    "run", "use", "click", "type", "select", "open", "press", "call", "set", "add", "choose",
    "enter", "install", "write", "pass", "put", "go", "start", "create", "edit", "make",
    "specify", "invoke", "load", "save", "copy", "move", "remove", "delete", "check", "turn",
    "insert", "attach", "connect", "fill", "place", "pour", "mix", "tighten", "unplug",
    "switch", "restart", "follow", "read", "apply", "send", "submit", "sign", "log", "drag",
    "right-click", "double-click", "execute", "define", "assign", "give", "keep", "wait",
}  # fmt: skip
# "X does not …" and the like: the auxiliary, the question it opens, and its plural form
_NEGATIONS = {
    "does not": "does", "doesn't": "does", "do not": "do", "don't": "do",
    "cannot": "can", "can not": "can", "can't": "can", "is not": "is", "isn't": "is",
    "are not": "are", "aren't": "are", "will not": "will", "won't": "will",
    "should not": "should", "must not": "can", "may not": "can", "need not": "must",
}  # fmt: skip
_MODALS = {"can", "will", "must", "should", "may", "might", "could", "would", "is", "are"}
_TRANSITIVE = {
    "includes", "contains", "requires", "needs", "covers", "provides", "returns", "accepts",
    "supports", "uses", "creates", "produces", "shows", "lists", "stores", "reads", "writes",
    "grows", "sells", "holds", "offers", "allows", "takes", "gives", "prints", "displays",
    "describes", "explains", "controls", "checks", "computes", "calculates", "measures",
    "expects", "ignores", "replaces", "removes", "adds", "keeps", "saves", "loads", "sends",
}  # fmt: skip
_VERBS = {
    "is", "are", "was", "were", "has", "have", "had", "must", "can", "cannot", "will",
    "should", "may", "might", "shall", "would", "could", "does", "do", "did", "applies",
    "apply", "means", "runs", "starts", "ends", "lasts", "became", "becomes", "rose", "fell",
    "increased", "decreased", "works", "work", "happens", "happen", "occurs", "occur",
}  # fmt: skip
_VERBS |= _TRANSITIVE
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_DAYS = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_PERIODS = r"day|week|month|year|night|morning|evening|hour|minute|quarter|season"
_WHEN = re.compile(
    rf"\b(?:{_MONTHS}|{_DAYS}|daily|weekly|monthly|yearly|annually|(?:1[5-9]|20)\d\d"
    rf"|(?:every|each|once\s+a|twice\s+a)\s+(?:\w+\s+)?(?:{_PERIODS}|{_DAYS})s?)\b"
)
_PREPOSITIONS = {"in", "of", "for", "on", "at", "to", "from", "with", "by", "into", "about"}
_AMOUNT = re.compile(r"^(?:[£$€]?\d|about\s+\d|around\s+\d|up\s+to\s+\d|at\s+(?:least|most)\s+\d)")
_DEFINITION = re.compile(
    rf"^(?P<term>\S+(?:\s+\S+){{0,{wording.MAX_TERM_WORDS - 1}}}?)\s+"
    r"(?:(?P<verb>is|are)\s+(?:a|an|the|any|one)\s|(?P<plural>are)\s+(?:\S+\s+){1,3}"
    r"(?:that|which|who|whose)\s|means\s|refers\s+to\s|is\s+defined\s+as\s)"
)
_TO_DO = re.compile(r"^To (?P<goal>[a-z][^,;:]{3,120}?), (?P<rest>.+)$")
_YOU_CAN = re.compile(
    r"^You can (?P<goal>[a-z][^,;:]{3,120}?) (?:by|with|using|through) \S.*$", re.IGNORECASE
)

Pair = tuple[str, str]


def questions_from_passage(text: str, *, limit: int, filename: str = "") -> list[Pair]:
    """Up to `limit` (question, answer) pairs, each answer the passage's own sentences; none
    from a contents, index, licence or front-matter passage. (`filename` is kept for callers
    that name it: no question names the document.)"""
    if boilerplate(text):
        return []
    paragraphs = blocks(text)
    usable = [s for block in paragraphs for s in block.sentences if _usable(s)]
    found = (
        _procedures(paragraphs, usable)
        + _caveats(usable)
        + _definitions(usable)
        + _facts(usable)
        + _headings(paragraphs)
    )
    return _distinct(found)[: max(limit, 0)]


def knowledge_candidates(
    passages: list[Any], *, questions: int, system: str, seed: int = 0
) -> list[Candidate]:
    """Up to `questions` offline examples spread over the passages (each passage gives its
    best pair, then each its second best, and so on, a question already asked skipped),
    each shown among distractor passages as `raft.py` sets them out. `passages` are
    mappings or objects with document_id, filename, page, chunk_id and text."""
    per_passage = [
        questions_from_passage(
            passage_field(p, "text"), limit=questions, filename=passage_field(p, "filename")
        )
        for p in passages
    ]
    chosen: list[Written] = []
    asked: set[str] = set()
    for rank in range(max(map(len, per_passage), default=0)):
        for passage, pairs in zip(passages, per_passage, strict=True):
            if len(chosen) == questions:
                break
            if rank < len(pairs) and prompt_key(pairs[rank][0]) not in asked:
                asked.add(prompt_key(pairs[rank][0]))
                chosen.append(Written(passage, *pairs[rank]))
    return raft_candidates(chosen, passages, system=system, seed=seed, tag="offline")


# ---- the patterns --------------------------------------------------------------------------


def _usable(sentence: str) -> bool:
    return answerable(sentence) and not boilerplate_sentence(sentence)


def _procedures(paragraphs: list[Block], usable: list[str]) -> list[Pair]:
    found = []
    for sentence in usable:
        to_do = _TO_DO.match(sentence)
        if (
            to_do
            and wording.goal_phrase(to_do.group("goal"))
            and wording.first_word(to_do.group("rest")) in (_IMPERATIVES | {"you"})
        ):
            found.append((f"How do you {wording.goal_phrase(to_do.group('goal'))}?", sentence))
            continue
        you_can = _YOU_CAN.match(sentence)
        if you_can and wording.goal_phrase(you_can.group("goal")):
            found.append((f"How can you {wording.goal_phrase(you_can.group('goal'))}?", sentence))
    for block in paragraphs:
        steps = _steps(block.sentences)
        topic = wording.heading_topic(block.heading)
        if steps and topic:
            found.append((_procedure_question(topic), steps))
    return found


def _steps(said: list[str]) -> str | None:
    """The first imperative sentences of a paragraph (up to MAX_STEPS), when they are its
    opening and long enough together to answer with."""
    steps = []
    for sentence in said[:MAX_STEPS]:
        if wording.first_word(sentence) not in _IMPERATIVES or not sentence.endswith("."):
            break
        if boilerplate_sentence(sentence):
            return None
        steps.append(sentence)
    answer = " ".join(steps)
    return answer if steps and answerable(answer) else None


def _procedure_question(topic: str) -> str:
    words = topic.split()
    if [w.lower() for w in words[:2]] == ["how", "to"] and len(words) > 2:
        return f"How do you {' '.join(words[2:])}?"
    if words[0].lower().endswith("ing") and len(words[0]) > 5:
        return f"How do you go about {wording.as_object(topic)}?"
    return f"What are the steps for {wording.as_object(topic)}?"


def _caveats(usable: list[str]) -> list[Pair]:
    found = []
    for sentence in usable:
        asked = _negated(sentence) or _only_if(sentence)
        if asked:
            found.append((asked, sentence))
    return found


def _negated(sentence: str) -> str | None:
    """ "X does not Y when Z." → "When does X not Y?"; "… unless Z." → "When does X Y?";
    "X cannot Y." → "Can X Y?"."""
    words = sentence.rstrip(".").split()
    for n in range(1, wording.MAX_TERM_WORDS + 1):
        for size in (2, 1):
            said = " ".join(words[n : n + size]).lower()
            if said not in _NEGATIONS:
                continue
            subject = wording.subject_phrase(words[:n], allow_you=True)
            action, condition = wording.verb_phrase(words[n + size :])
            if not subject or not action:
                return None
            aux = _NEGATIONS[said]
            if aux == "does" and wording.plural(subject):
                aux = "do"
            if condition == "unless":
                return f"When {aux} {subject} {action}?"
            if condition in ("when", "if", "while", "once", "until", "before", "after"):
                return f"When {aux} {subject} not {action}?"
            return f"{aux.capitalize()} {subject} {action}?"
    return None


def _only_if(sentence: str) -> str | None:
    """ "X works only if Z." → "When does X work?"; "X can Y only when Z." → "When can X Y?"."""
    found = re.search(r"\s(?:only\s+(?:if|when)|unless)\s", sentence)
    if not found:
        return None
    words = sentence[: found.start()].split()
    for n, word in enumerate(words[: wording.MAX_TERM_WORDS + 1]):
        lower = word.lower()
        guessed = n and wording.third_person(lower) and words[n - 1].lower() not in _PREPOSITIONS
        if lower in _MODALS or lower in _VERBS or guessed:
            subject = wording.subject_phrase(words[:n], allow_you=True)
            rest = words[n + 1 :] if lower in _MODALS else words[n:]
            if not subject or not rest or len(rest) > wording.MAX_GOAL_WORDS:
                return None
            if re.search(r"[,;:]", " ".join(rest)) or {"and", "or"} & {w.lower() for w in rest}:
                return None
            if lower in _MODALS:
                return f"When {lower} {subject} {wording.clean(rest)}?"
            aux = "do" if wording.plural(subject) else "does"
            return f"When {aux} {subject} {wording.clean([wording.base_form(rest[0]), *rest[1:]])}?"
    return None


def _definitions(usable: list[str]) -> list[Pair]:
    found = []
    for sentence in usable:
        match = _DEFINITION.match(sentence)
        if match and wording.names_something(match.group("term")):
            verb = "are" if "are" in (match.group("verb"), match.group("plural")) else "is"
            found.append((f"What {verb} {wording.as_object(match.group('term'))}?", sentence))
    return found


def _facts(usable: list[str]) -> list[Pair]:
    """Amounts ("What is X?"), dates of things done ("When is X paid?") and what a thing
    takes or gives ("What does X require?")."""
    found = []
    for sentence in usable:
        words = sentence.rstrip(".").split()
        n = next(
            (n for n, w in enumerate(words[: wording.MAX_TERM_WORDS + 1]) if w.lower() in _VERBS), 0
        )
        subject = wording.subject_phrase(words[:n])
        rest = words[n + 1 :]
        verb = words[n].lower()
        if not subject or not rest:
            continue
        if verb in ("is", "are") and _AMOUNT.match(" ".join(rest)):
            found.append((f"What {verb} {subject}?", sentence))
        elif (
            verb in ("is", "are", "was", "were")
            and wording.participle(rest[0])
            and _WHEN.search(re.split(r"[,;:]", " ".join(rest[1:]))[0])
        ):
            found.append((f"When {verb} {subject} {rest[0].strip(wording.PUNCTUATION)}?", sentence))
        elif (
            verb in _TRANSITIVE
            and rest[0].lower() not in wording.CLAUSE_ENDS
            and wording.noun_phrase(words[:n])
        ):
            aux = "do" if wording.plural(subject) else "does"
            found.append((f"What {aux} {subject} {wording.base_form(verb)}?", sentence))
    return found


def _headings(paragraphs: list[Block]) -> list[Pair]:
    found = []
    for block in paragraphs:
        topic = wording.heading_topic(block.heading)
        if not topic or not block.sentences or not _usable(block.sentences[0]):
            continue
        answer = block.sentences[0]
        second = block.sentences[1] if len(block.sentences) > 1 else ""
        if len(answer.split()) < SHORT_ANSWER_WORDS and _usable(second):
            answer += " " + second
        if wording.speaks_of(answer, topic):
            verb = "are" if wording.plural(topic) else "is"
            found.append((f"What {verb} {wording.as_object(topic)}?", answer))
        else:
            found.append((f"What do you need to know about {wording.as_object(topic)}?", answer))
    return found


def _distinct(pairs: list[Pair]) -> list[Pair]:
    questions, answers, found = set(), set(), []
    for question, answer in pairs:
        if prompt_key(question) not in questions and answer not in answers:
            questions.add(prompt_key(question))
            answers.add(answer)
            found.append((question, answer))
    return found
