"""How a question with numbered sources is put to a model — one format for the live answer
(the expert service's RAG prompt) and for the training examples that teach an adapter to
answer from sources (the dataset service's RAFT-style examples), so that what an adapter
learns is what it is later shown.

    Sources:

    [1] (handbook.pdf, page 14)
    <passage text>

    [2] (...)
    ...

    Question: <question>
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

RAG_RULES = (
    "Answer only from the numbered sources in the user's message. Cite the source of each "
    "claim right after the claim, as [1] or [2]. If the sources do not contain the answer, "
    "say plainly that the sources do not cover it; do not guess."
)
NOT_COVERED = "The sources do not cover this."
ASK = "Question"
# An answer led by quotes from the documents (the expert's `quote_sources` setting) shows
# them under DOCUMENTS_SAY, then the model's text under MODEL_SAYS.
DOCUMENTS_SAY = "From your documents:"
MODEL_SAYS = "The model adds, in its own words:"
# What an answer shows when the model wrote nothing but citation markers ("[1] [2]"), as a
# small model trained on cited answers sometimes does: where it pointed, in words; not a
# claim of its own, so attribution leaves it as it is.
ONLY_POINTED = "The model wrote no words of its own; it pointed to {sources}."


class Passage(Protocol):
    n: int
    filename: str
    page: int
    text: str


def passage_label(n: int, filename: str, page: int) -> str:
    """How the prompt introduces passage `n`: `[2] (handbook.pdf, page 14)`."""
    return f"[{n}] ({filename}, page {page})"


def sources_message(passages: Sequence[Passage], question: str, ask: str = ASK) -> str:
    """The user's message: the numbered passages, then the question."""
    if not passages:
        return f"Sources: none were found.\n\n{ask}: {question}"
    shown = "\n\n".join(
        f"{passage_label(p.n, p.filename, p.page)}\n{p.text.strip()}" for p in passages
    )
    return f"Sources:\n\n{shown}\n\n{ask}: {question}"


def question_in(message: str) -> str:
    """The question of a user's message written by `sources_message` (a message in another
    shape is its own question). The last "Question:" is the asker's: a passage may hold one."""
    if not message.startswith("Sources:"):
        return message
    for ask in (ASK, "Write this"):
        at = message.rfind(f"\n\n{ask}: ")
        if at >= 0:
            return message[at + len(ask) + 4 :]
    return message


def models_words(answer: str) -> str:
    """The model's own text of an answer that quotes from the documents ahead of it (the
    whole answer otherwise): what an adapter should learn to write."""
    if not answer.startswith(DOCUMENTS_SAY):
        return answer
    at = answer.find(f"\n{MODEL_SAYS}\n")
    return answer[at + len(MODEL_SAYS) + 2 :] if at >= 0 else answer
