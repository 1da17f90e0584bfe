"""Running a benchmark when it is queued: the `benchmark.run` work queue takes one run per
worker, asks the expert each question through the examiner (greedily, as a benchmark: a
person's questions go first and nothing is recorded as a trace), and appends each scored
answer at once — so a run that stops (a crash, a restart) resumes at its first unanswered
question. A person's cancel is heard within half a second. A run that keeps failing ends
`failed` with the reason, never hung."""

from __future__ import annotations

from contracts.benchmark import BenchmarkCompleted, BenchmarkQueued
from runtime.cancellable import Cancelled, unless_cancelled
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.reactor import Progress
from services.benchmark import domain, scoring, views
from services.benchmark.aggregates import RUNS
from services.benchmark.examiner import Examiner
from services.benchmark.resources import Sampler

log = get_logger(__name__)


class Runner:
    def __init__(self, host, examiner: Examiner) -> None:
        self.host, self.examiner = host, examiner

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
                asked = self.examiner.answer(tenant, ev, question)
                result = await self.watched(tenant, ev.run_id, asked, progress)
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

    async def complete(self, rec, ev: BenchmarkQueued, results, resources) -> None:
        metrics = scoring.metrics(list(ev.questions), results, resources)
        async with self.host.engine.connect() as conn:
            baseline = await views.latest(conn, rec.tenant, ev.expert_id, ev.suite, None,
                                          not_id=ev.run_id)  # fmt: skip
            previous = await views.latest(conn, rec.tenant, ev.expert_id, ev.suite,
                                          views.ANY_ADAPTER, not_id=ev.run_id)  # fmt: skip
        if ev.adapter_id is None or ev.setup is not None:
            baseline = None  # a base-model run is its own baseline
        completed = BenchmarkCompleted(
            run_id=ev.run_id,
            metrics=metrics,
            vs_baseline_pct=scoring.change_from(metrics.composite, baseline),
            vs_previous_pct=scoring.change_from(metrics.composite, previous),
            baseline_run_id=baseline.id if baseline else None,
            previous_run_id=previous.id if previous else None,
            within_noise=previous is not None
            and scoring.within_noise(metrics, scoring.metrics_of(previous)),
        )
        await self.append(rec, rec.tenant, ev.run_id,
                          lambda s: domain.decide_ending(s, ev.run_id, completed), "end")  # fmt: skip

    async def gave_up(self, rec: RecordedEvent, error: BaseException) -> None:
        if not isinstance(rec.event, BenchmarkQueued):
            return
        reason = f"The benchmark stopped and could not go on: {error}"[:500]
        log.warning("benchmark.failed", run=rec.event.run_id, error=repr(error))
        run_id = rec.event.run_id
        await self.append(rec, rec.tenant, run_id,
                          lambda s: domain.decide_failed(s, run_id, reason), "failed")  # fmt: skip
