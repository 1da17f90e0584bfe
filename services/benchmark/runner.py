"""Running a benchmark: the `benchmark.run` work queue takes one run per worker, asks the
expert each question (greedily, as a benchmark: a person's questions go first and nothing is
recorded as a trace), scores the answer, and appends it — so a run that stops (a crash, a
restart) resumes at its first unanswered question. A person's cancel is heard within half a
second. A run that keeps failing ends `failed` with the reason, never hung."""

from __future__ import annotations

import msgspec
import numpy as np

from contracts.answers import Ask, ChatTurn, Complete
from contracts.base import DomainError, ErrorCode
from contracts.benchmark import (
    BASE,
    BenchmarkCompleted,
    BenchmarkQueued,
    BenchMetrics,
    Question,
    QuestionResult,
)
from contracts.knowledge import Embed
from runtime.cancellable import Cancelled, unless_cancelled
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.rpc import ask
from services.benchmark import domain, scoring, views
from services.benchmark.aggregates import RUNS
from services.benchmark.resources import Sampler

log = get_logger(__name__)
ANSWER_TIMEOUT_S = 600.0  # one answer of a slow local model, queued behind people
RUN_EVENTS = "evt.benchmark.*.run.>"


class Runner:
    def __init__(self, host) -> None:
        self.host = host

    async def on_run(self, rec: RecordedEvent, progress: Progress) -> None:
        if not isinstance(rec.event, BenchmarkQueued):
            return
        ev, tenant = rec.event, rec.tenant
        state, _ = await RUNS.load(self.host.store, tenant, ev.run_id)
        if not domain.going(state):
            return
        await self.append(rec, tenant, ev.run_id, lambda s: domain.decide_start(s, ev.run_id),
                          f"start-{state.attempt + 1}")  # fmt: skip
        sampler = Sampler()
        sampler.start()
        try:
            results = dict(state.results)
            for index, question in enumerate(ev.questions):
                if index in results:
                    continue  # answered before a restart
                result = await self.watched(tenant, ev.run_id, self.answer(tenant, ev, question),
                                            progress)  # fmt: skip
                await self.append(
                    rec, tenant, ev.run_id,
                    lambda s, i=index, r=result: domain.decide_scored(s, ev.run_id, i, r),
                    f"q{index}",
                )  # fmt: skip
                results[index] = result
        except Cancelled:
            return
        finally:
            resources = sampler.stop()
        await self.complete(rec, ev, [results[i] for i in sorted(results)], resources)

    async def watched(self, tenant: str, run_id: str, work, progress: Progress):
        async def cancelled() -> bool:
            state, _ = await RUNS.load(self.host.store, tenant, run_id)
            return not domain.going(state)

        return await unless_cancelled(work, cancelled, beat=progress)

    async def append(self, rec: RecordedEvent, tenant: str, run_id: str, decide, step: str):
        return await RUNS.execute(
            self.host.store, tenant, run_id, decide,
            event_id=derived_id(rec.event_id, step), correlation_id=rec.correlation_id,
        )  # fmt: skip

    # ---- one question ---------------------------------------------------------------------

    async def answer(self, tenant: str, ev: BenchmarkQueued, q: Question) -> QuestionResult:
        question = Ask(
            tenant=tenant,
            expert_id=ev.expert_id,
            question=q.question,
            mode=ev.mode or ("rag" if q.kind == "knowledge" else "closed"),
            max_tokens=self.host.settings.bench_max_tokens,
            temperature=0.0,
            adapter=ev.adapter_id or BASE,
            purpose="benchmark",
        )
        try:
            reply = await ask(self.host.nc, question, timeout=ANSWER_TIMEOUT_S)
        except DomainError as exc:
            if exc.code == ErrorCode.UNAVAILABLE:
                raise  # the expert service is down or busy: try this question again later
            return QuestionResult(question_id=q.id, domain=q.domain, answer="", score=0.0,
                                  scorer="none", scorer_version=scoring.SCORER_VERSION,
                                  error=exc.detail[:300])  # fmt: skip
        similarity = await self.similarity(tenant, reply.answer, q.reference)
        cited = [(c.document_id, c.page) for c in reply.citations]
        scored_cited = None if ask.mode == "closed" else cited  # closed book cites nothing
        judged = await self.judged(tenant, ev, q, reply.answer) if ev.judge else None
        scored = scoring.score(
            q, reply.answer, similarity=similarity, cited=scored_cited, judged=judged
        )
        return msgspec.structs.replace(
            scored,
            response_ms=round(reply.latency_ms, 1),
            completion_tokens=reply.completion_tokens,
            tokens_per_s=round(reply.tokens_per_s, 2),
            cut_off=reply.finish_reason == "length",
            citations=[f"{d}:{p}" for d, p in cited][:20],
        )

    async def similarity(self, tenant: str, answer: str, reference: str) -> float | None:
        if not answer.strip():
            return 0.0
        try:
            query = Embed(tenant=tenant, texts=[answer[:2000], reference[:2000]])
            reply = await ask(self.host.nc, query)
        except DomainError:
            return None  # scored by word overlap alone; the result says so
        vectors = np.frombuffer(reply.vectors, dtype=np.float32).reshape(2, reply.dimensions)
        return scoring.cosine(vectors[0].tolist(), vectors[1].tolist())

    async def judged(self, tenant: str, ev: BenchmarkQueued, q: Question, answer: str):
        messages = scoring.judge_messages(q.question, q.reference, q.rubric, answer)
        query = Complete(
            tenant=tenant,
            expert_id=ev.expert_id,
            messages=[ChatTurn(role=m["role"], content=m["content"]) for m in messages],
            max_tokens=64,
            temperature=0.0,
        )
        try:
            reply = await ask(self.host.nc, query,
                                  timeout=ANSWER_TIMEOUT_S)  # fmt: skip
        except DomainError:
            return None
        return scoring.parse_judgement(reply.text)

    # ---- the end --------------------------------------------------------------------------

    async def complete(self, rec, ev: BenchmarkQueued, results, resources) -> None:
        metrics = scoring.metrics(list(ev.questions), results, resources)
        async with self.host.engine.connect() as conn:
            baseline = await views.latest(conn, rec.tenant, ev.expert_id, ev.suite, None,
                                          not_id=ev.run_id)  # fmt: skip
            previous = await views.previous_run(conn, rec.tenant, ev.expert_id, ev.suite,
                                                ev.run_id)  # fmt: skip
        if ev.adapter_id is None or ev.setup is not None:
            baseline = None  # a base-model run is its own baseline
        completed = BenchmarkCompleted(
            run_id=ev.run_id,
            metrics=metrics,
            vs_baseline_pct=change(metrics.composite, baseline),
            vs_previous_pct=change(metrics.composite, previous),
            baseline_run_id=baseline.id if baseline else None,
            previous_run_id=previous.id if previous else None,
            within_noise=previous is not None
            and scoring.within_noise(metrics, metrics_of(previous)),
        )
        await self.append(rec, rec.tenant, ev.run_id,
                          lambda s: completed if domain.going(s) else None, "end")  # fmt: skip

    async def gave_up(self, rec: RecordedEvent, error: BaseException) -> None:
        if not isinstance(rec.event, BenchmarkQueued):
            return
        reason = f"The benchmark stopped and could not go on: {error}"[:500]
        log.warning("benchmark.failed", run=rec.event.run_id, error=repr(error))
        await self.append(rec, rec.tenant, rec.event.run_id,
                          lambda s: domain.decide_failed(s, rec.event.run_id, reason), "failed")  # fmt: skip


def metrics_of(view) -> BenchMetrics:
    """A finished run's view as metrics, for comparing with a new run."""
    return BenchMetrics(
        questions=view.total,
        composite=view.composite_score or 0.0,
        avg_quality=view.avg_quality or 0.0,
        ci_low=view.ci_low or 0.0,
        ci_high=view.ci_high or 0.0,
    )


def change(composite: float, other) -> float | None:
    if other is None or other.composite_score is None:
        return None
    return scoring.percent_change(composite, other.composite_score)
