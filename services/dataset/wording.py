"""The English of a question worded from a sentence: the word lists the patterns of
`offline_qa.py` read sentences with, and the readers of their phrases (a subject, a verb
phrase, a goal, a heading as a topic)."""

from __future__ import annotations

import re

from services.dataset.boilerplate import boilerplate_sentence
from services.dataset.sentences import NUMBERING

MAX_TERM_WORDS = 6
MAX_GOAL_WORDS = 12
PRONOUNS = {
    "it", "this", "that", "these", "those", "there", "here", "he", "she", "they", "we",
    "you", "i", "which", "what", "who", "such", "each", "its", "their", "our", "his", "her",
}  # fmt: skip
OPENING_CLAUSES = {
    "if", "when", "since", "because", "although", "after", "before", "unless", "while", "as",
    "for", "in", "on", "at", "by", "from", "under", "within", "during", "to", "once", "until",
    "however", "also", "then", "so", "but", "and", "or", "note", "see",
}  # fmt: skip
GENERIC_HEADINGS = {
    "introduction", "overview", "preface", "summary", "contents", "index", "notes", "note",
    "acknowledgements", "acknowledgments", "foreword", "appendix", "background",
    "conclusion", "conclusions", "references", "bibliography", "examples", "example",
    "abstract", "preliminaries", "general", "miscellaneous", "other", "details", "more",
    "chapter", "part", "section", "table", "figure", "see", "copying", "license", "licence",
}  # fmt: skip
CONDITIONS = {"when", "if", "while", "unless", "until", "before", "after", "once"}
CLAUSE_ENDS = CONDITIONS | {
    "because", "since", "as", "so", "but", "and", "or", "even", "except", "though",
    "although", "without", "instead", "rather",
}  # fmt: skip
IRREGULAR_PARTICIPLES = {
    "built", "made", "held", "paid", "sent", "kept", "sold", "taken", "given", "written",
    "done", "run", "set", "put", "read", "shown", "known", "grown", "cut", "brought", "bought",
}  # fmt: skip
PUNCTUATION = ".,;:!?()[]\"'“”‘’"


# ---- reading a sentence --------------------------------------------------------------------


def heading_topic(heading: str | None) -> str | None:
    """A heading as the subject of a question, or None for one that names no subject."""
    if heading is None or boilerplate_sentence(heading):
        return None
    topic = NUMBERING.sub("", heading).strip()
    words = topic.split()
    if not words or words[0].lower().strip(PUNCTUATION) in GENERIC_HEADINGS:
        return None
    if any(w.lower().strip(PUNCTUATION) in PRONOUNS for w in words):
        return None  # "What tallyctl does", a table's header "Code Meaning and what to do"
    if re.search(r"\d+\s*$|\.{2,}", topic):  # a contents line: "Tides 12"
        return None
    return topic


def speaks_of(answer: str, topic: str) -> bool:
    """Whether the answer names the heading's last word (by its first five letters)."""
    head = topic.split()[-1].lower().strip(PUNCTUATION)
    return len(head) >= 3 and head[:5] in answer.lower()


def subject_phrase(words: list[str], *, allow_you: bool = False) -> str | None:
    """The words as a question's subject ("The VAT return" → "the VAT return"), or None when
    they are not a short noun phrase (a clause, a pronoun, punctuation)."""
    if not words:
        return None
    if allow_you and [w.lower() for w in words] == ["you"]:
        return "you"
    phrase = " ".join(words)
    if words[0].lower() in OPENING_CLAUSES or not names_something(phrase):
        return None
    return as_object(phrase)


def verb_phrase(words: list[str]) -> tuple[str | None, str | None]:
    """What follows an auxiliary, up to a comma or the next clause, and the word that opens
    that clause ("when", "unless"…), if any."""
    taken: list[str] = []
    condition = None
    for word in words:
        bare = word.lower().strip(PUNCTUATION)
        if bare in CLAUSE_ENDS:
            condition = bare
            break
        taken.append(word)
        if word.endswith((",", ";", ":")):
            break
    if not taken or len(taken) > MAX_GOAL_WORDS or first_word(" ".join(taken)) in PRONOUNS:
        return None, None
    if not taken[0][:1].islower():
        return None, None
    return clean(taken), condition


def goal_phrase(goal: str) -> str | None:
    words = goal.split()
    if len(words) > MAX_GOAL_WORDS or words[-1].lower() in ("this", "that", "so", "it", "them"):
        return None
    return clean(words)


def clean(words: list[str]) -> str:
    return " ".join(words).strip(PUNCTUATION + " ")


def first_word(text: str) -> str:
    return text.split()[0].lower().strip(PUNCTUATION) if text.split() else ""


def participle(word: str) -> bool:
    word = word.lower().strip(PUNCTUATION)
    return (word.endswith("ed") and len(word) > 4) or word in IRREGULAR_PARTICIPLES


def third_person(word: str) -> bool:
    return word.endswith("s") and not word.endswith("ss") and len(word) > 3 and word.isalpha()


def base_form(verb: str) -> str:
    """A third-person verb's base form: "requires" → "require", "applies" → "apply"."""
    verb = verb.lower().strip(PUNCTUATION)
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    return verb[:-1] if verb.endswith("s") and not verb.endswith("ss") else verb


def plural(phrase: str) -> bool:
    if phrase == "you":
        return True
    head = phrase.split()[-1].strip(PUNCTUATION)
    return head.lower().endswith("s") and not head.lower().endswith(("ss", "us", "is"))


def noun_phrase(words: list[str]) -> bool:
    """Whether the words open like a noun phrase ("The save command", "Each user"), not
    like an adjective a verb-like noun follows ("Late returns attract …")."""
    return len(words) >= 2 and (
        words[0].lower() in ("a", "an", "the", "each", "every", "your", "any", "this")
        or words[0][:1].isupper()
        and words[1][:1].isupper()
    )


def names_something(phrase: str) -> bool:
    words = phrase.split()
    if not words or len(words) > MAX_TERM_WORDS or re.search(r"[,;:]|\((?!\))", phrase):
        return False
    # no "it", no relative clause ("Rows in which the condition"), no table cells run
    # together ("E11 The vault")
    return not (
        any(w.lower().strip(PUNCTUATION) in PRONOUNS for w in words)
        or any(w in ("The", "A", "An") for w in words[1:])
    )


def as_object(phrase: str) -> str:
    """A sentence-initial phrase as it reads inside a question: "The VAT return" becomes
    "the VAT return", "Input tax" becomes "input tax"; acronyms and names inside stay."""
    first, _, rest = phrase.partition(" ")
    if first[1:].islower() or len(first) == 1:
        first = first.lower()
    return f"{first} {rest}" if rest else first
