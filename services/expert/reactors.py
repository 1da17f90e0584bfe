"""What the expert service does on its own when events arrive: the automatic scorer (the
reactor "expert.score" on the answers of the EXPERT stream) gives every `AnswerGiven` an
`AnswerScored` from the current scorer version; `RescoreAnswers` (`commands.py`) has it score
old traces again after the scorer improved.

Groundedness is the supported share of the answer's claims (attribution, at answer time);
the refusal check, and groundedness of a trace written before claims, need embeddings of the
passages it was given (and of the answer's sentences); they come from the knowledge service
(an `Embed` query), whose model indexed those passages. The score's event id derives from the answer and the scorer version, and the
aggregate refuses a second score by the same version, so a redelivery adds nothing.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from contracts import answers, expert
from contracts.answers import AnswerGiven, AnswerScored
from runtime.eventstore import RecordedEvent, derived_id, events_of
from runtime.reactor import Progress
from runtime.service import Hosted
from services.expert.aggregates import ANSWER
from services.expert.answering import scoring
from services.expert.answering.citations import CheckedAnswer, check_citations
from services.expert.answering.sources import source_of
from services.expert.domain import answers as answer_domain
from services.expert.embedding import embed

SUBJECT = events_of(expert.STREAM, answers.AGGREGATE)  # the answers' events only


class Scorer(Hosted):
    """Reacts to `AnswerGiven`: scores the answer once per scorer version."""

    async def on_answer(self, rec: RecordedEvent, progress: Progress) -> None:
        if isinstance(rec.event, AnswerGiven):
            await self.score(rec.tenant, rec.event)

    async def score(self, tenant: str, given: AnswerGiven) -> None:
        state, _ = await ANSWER.load(self.host.store, tenant, given.answer_id)
        if scoring.SCORER_VERSION in state.scored_by:
            return
        scored = await self.judge(given)
        await ANSWER.execute(
            self.host.store,
            tenant,
            given.answer_id,
            partial(answer_domain.decide_score, scored=scored),
            event_id=derived_id("score", given.answer_id, scoring.SCORER_VERSION),
            races=1,  # feedback, or another replica's score, came first: decide again
        )

    async def judge(self, given: AnswerGiven) -> AnswerScored:
        # A draft need not cite: it is judged as RAG only when it did.
        mode = given.mode if given.kind == "answer" or given.citations else "closed"
        supported = claimed(given)
        sentences = scoring.sentences(given.answer) if supported is None else []
        passages = [s.text for s in given.sources]
        empty = np.zeros((0, 0), dtype=np.float32)
        sentence_vectors, passage_vectors, question_vector = empty, empty, None
        if passages:
            vectors = await self.embed([*sentences, *passages, given.question])
            n, m = len(sentences), len(passages)
            sentence_vectors, passage_vectors = vectors[:n], vectors[n : n + m]
            question_vector = vectors[-1]
        checked = None
        if mode == "rag" or given.citations or given.removed_citations:
            checked = CheckedAnswer(
                text=given.answer,
                cited=[],
                removed=given.removed_citations,
                markers=count_markers(given),
            )
        verdict = scoring.score_answer(
            mode=mode,
            answer=given.answer,
            checked=checked,
            sentence_vectors=sentence_vectors,
            passage_vectors=passage_vectors,
            max_tokens_hit=given.finish_reason == "length",
            question_vector=question_vector,
            supported=supported,
        )
        parts = verdict.parts
        return AnswerScored(
            answer_id=given.answer_id,
            expert_id=given.expert_id,
            score=verdict.score,
            groundedness=parts.groundedness,
            citation_validity=parts.citation_validity,
            sanity=parts.sanity,
            refusal=parts.refusal,
            reasons=[r[:1000] for r in verdict.reasons][:20],
            scorer_version=scoring.SCORER_VERSION,
        )

    async def embed(self, texts: list[str]) -> np.ndarray:
        return await embed(self.host.nc, texts)


def claimed(given: AnswerGiven) -> tuple[int, int] | None:
    """(supported, judged) among the model's own claim sentences; None for a trace written
    before claims, or whose claims could not be checked."""
    own = [c for c in given.claims if c.origin == "model"]
    if not given.claims or any(c.support == "unchecked" for c in own):
        return None
    judged = [c for c in own if c.support in ("supported", "unsupported")]
    return sum(c.support == "supported" for c in judged), len(judged)


def count_markers(given: AnswerGiven) -> int:
    """Markers the model wrote: the valid ones still in the text, and those removed."""
    sources = [source_of(s.n, s) for s in given.sources]
    return check_citations(given.answer, sources).markers + given.removed_citations
