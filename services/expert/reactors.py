"""What the expert service does on its own when events arrive: the automatic scorer (the
reactor "expert.score" on the answers of the EXPERT stream) gives every `AnswerGiven` an
`AnswerScored` from the current scorer version; `RescoreAnswers` (`commands.py`) has it score
old traces again after the scorer improved.

Groundedness needs embeddings of the answer's sentences and of the passages it was given;
they come from the knowledge service (an `Embed` query), whose model indexed those
passages. The score's event id derives from the answer and the scorer version, and the
aggregate refuses a second score by the same version, so a redelivery adds nothing.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from contracts import answers, expert
from contracts.answers import AnswerGiven, AnswerScored
from contracts.knowledge import MAX_EMBED_TEXT, MAX_EMBED_TEXTS, Embed
from runtime.eventstore import RecordedEvent, derived_id, events_of
from runtime.reactor import Progress
from runtime.rpc import ask
from runtime.service import Hosted
from services.expert.aggregates import ANSWER
from services.expert.answering import scoring
from services.expert.answering.citations import CheckedAnswer, check_citations
from services.expert.answering.sources import source_of
from services.expert.domain import answers as answer_domain

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
        sentences = scoring.sentences(given.answer)
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
        """Embeddings from the knowledge service, in batches it accepts."""
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), MAX_EMBED_TEXTS):
            batch = [t[:MAX_EMBED_TEXT] for t in texts[start : start + MAX_EMBED_TEXTS]]
            reply = await ask(self.host.nc, Embed(texts=batch), timeout=60)
            rows.append(
                np.frombuffer(reply.vectors, dtype=np.float32).reshape(-1, reply.dimensions)
            )
        return np.vstack(rows)


def count_markers(given: AnswerGiven) -> int:
    """Markers the model wrote: the valid ones still in the text, and those removed."""
    sources = [source_of(s.n, s) for s in given.sources]
    return check_citations(given.answer, sources).markers + given.removed_citations
