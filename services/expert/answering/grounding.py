"""One answer made checkable, after the model wrote it: every sentence attributed to the
passages it was given (`attribution`), the markers in the text made those of its claims, and,
where the expert's setting asks for it, the answer led by quotes from the documents
(`quoting`). The embeddings come from the knowledge service in one query (the question, the
answer's claim sentences and the passages' sentences); if it cannot be reached in
`EMBED_TIMEOUT_S`, the answer is shown as the model wrote it, its sentences "unchecked"."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import structlog

from contracts.answers import MAX_CLAIM_TEXT, MAX_CLAIMS, Claim
from contracts.base import DomainError
from contracts.expert import QuoteSources
from contracts.prompting import ONLY_POINTED
from services.expert.answering import quoting
from services.expert.answering.attribution import (
    Reading,
    read,
    supported_share,
    with_citations,
)
from services.expert.answering.citations import check_citations
from services.expert.answering.sources import Source
from services.expert.embedding import embed

EMBED_TIMEOUT_S = 20.0  # the embedder may be busy indexing a large upload
_MARKER = re.compile(r"\[(\d+)\]")

log = structlog.get_logger()


@dataclass(frozen=True)
class Grounded:
    answer: str  # as shown: led by quotes where they apply, markers those of its claims
    claims: list[Claim]
    cited: list[Source]  # what the answer cites, in order of first citation
    ms: float


@dataclass(frozen=True)
class ModelAnswer:
    question: str
    text: str  # the model's answer, invalid markers already removed
    sources: Sequence[Source]  # as the prompt numbered them
    setting: QuoteSources
    bundled: bool  # the model is the small bundled one
    may_quote: bool  # an answer in RAG mode (not a draft, not closed-book)


def in_words(text: str) -> str:
    """The model's text, or, when it is nothing but markers, a sentence saying where it
    pointed (`ONLY_POINTED`)."""
    numbers = _MARKER.findall(text)
    if not numbers or re.sub(r"[\W_]", "", _MARKER.sub("", text)):
        return text
    pointed = " and ".join(f"source [{n}]" for n in dict.fromkeys(numbers))
    return ONLY_POINTED.format(sources=pointed)


async def ground(nc, asked: ModelAnswer) -> Grounded:
    started = time.perf_counter()
    asked = dataclasses.replace(asked, text=in_words(asked.text))
    reading = read(asked.text, asked.sources)
    quoting_wanted = asked.may_quote and bool(asked.sources) and asked.setting != "never"
    needs_passages = bool(asked.sources) and (bool(reading.claimed) or quoting_wanted)
    passages = [s for part in reading.passage_sentences for s in part] if needs_passages else []
    claim_texts = reading.claim_texts if needs_passages else []
    texts = [asked.question, *claim_texts, *passages] if needs_passages else []
    try:
        vectors = await embed(nc, texts, timeout=EMBED_TIMEOUT_S) if texts else None
    except (DomainError, TimeoutError) as exc:
        log.warning("expert.attribution_unavailable", reason=str(exc))
        claims = unchecked(reading)
        cited = check_citations(asked.text, list(asked.sources)).cited
        return Grounded(asked.text, _fitted(claims), cited, _ms(started))
    claims = reading.claims(vectors[1:] if vectors is not None else None)
    answer = with_citations(reading, claims, asked.text)
    support = supported_share(claims)
    if quoting_wanted and vectors is not None:
        lead = quoting.should_lead(asked.setting, bundled=asked.bundled, support=support)
        quotes = _quotes(asked, reading, vectors, len(claim_texts)) if lead else []
        if quotes:
            answer = quoting.lead(quotes, answer)
            claims = quoting.quote_claims(quotes) + claims
    return Grounded(answer, _fitted(claims), _cited(claims, asked.sources), _ms(started))


def _quotes(
    asked: ModelAnswer, reading: Reading, vectors: np.ndarray, claims: int
) -> list[quoting.Quote]:
    numbers = [s.n for s in asked.sources]
    rows = vectors[1 + claims :]
    return quoting.choose(asked.question, vectors[0], reading.passage_sentences, rows, numbers)


def unchecked(reading: Reading) -> list[Claim]:
    return [
        Claim(text=t, support="unchecked" if i in reading.claimed else "not_a_claim")
        for i, t in enumerate(reading.said)
    ]


def _cited(claims: Sequence[Claim], sources: Sequence[Source]) -> list[Source]:
    by_number = {s.n: s for s in sources}
    numbers = dict.fromkeys(n for c in claims for n in c.citations if n in by_number)
    return [by_number[n] for n in numbers]


def _fitted(claims: list[Claim]) -> list[Claim]:
    """Claims as the trace holds them: at most `MAX_CLAIMS`, each sentence at most
    `MAX_CLAIM_TEXT` characters (a model that never ends a sentence writes one long one)."""
    return [
        msgspec.structs.replace(c, text=c.text[:MAX_CLAIM_TEXT])
        if len(c.text) > MAX_CLAIM_TEXT
        else c
        for c in claims[:MAX_CLAIMS]
    ]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
