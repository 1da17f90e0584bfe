"""The dataset service's one reactor: building a version when it is requested, long work off
the `dataset.build` work queue.

A `DatasetBuildRequested` on an expert's line starts it. The candidates come from each
chosen source (manual first, then people's edits, then good answers, then the documents:
that order decides which of two duplicates stays), are screened by the data rules, split
90/10 by source passage, and stored as one JSONL object named by its sha256. Progress goes
on the log as `DatasetBuildProgressed`; a cancel lands between steps. A build redelivered
after a crash starts again from the sources (nothing half-made is kept: the version's
content is written once, at the end, under its hash); one that fails every attempt is
decided as `DatasetBuildFailed` with its reason.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from contracts.base import DomainError
from contracts.dataset import (
    AGGREGATE,
    CONTEXT,
    DatasetBuildFailed,
    DatasetBuildProgressed,
    DatasetBuildRequested,
    DatasetBuilt,
)
from runtime.cancellable import Cancelled, unless_cancelled
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.outages import disk_full, passing
from runtime.reactor import Progress
from runtime.service import ServiceHost
from services.dataset import domain
from services.dataset.aggregates import BUILD
from services.dataset.candidates import (
    feedback_candidates,
    manual_candidates,
    traces_candidates,
)
from services.dataset.content import Content
from services.dataset.gather import Gatherer
from services.dataset.rules import screen
from services.dataset.split import assign, counts_of

log = get_logger(__name__)
TICK_S = 0.5  # how often a build notes its progress within one stage
CANCEL_POLL_S = 0.5  # how often a build waiting on a model asks whether it was cancelled
STORE_FULL = (
    "the server's storage is full, so the dataset could not be stored (nothing of it was"
    " kept); free some space (delete old datasets, adapters or documents) and build again"
)


class Builder:
    def __init__(self, host: ServiceHost, content: Content) -> None:
        self.host, self.content = host, content

    async def on_line(self, rec: RecordedEvent, progress: Progress) -> None:
        if isinstance(rec.event, DatasetBuildRequested):
            await self.run(rec, rec.event, progress)

    async def run(self, rec: RecordedEvent, ev: DatasetBuildRequested, progress: Progress) -> None:
        state, _ = await BUILD.load(self.host.store, rec.tenant, ev.dataset_id)
        if not domain.still_building(state):
            return  # built, failed or cancelled before a redelivery
        try:
            outcome = await self.build(rec.tenant, ev, progress)
        except Cancelled:
            log.info("dataset.build_cancelled", dataset_id=ev.dataset_id)
            return
        except DomainError as exc:  # the expert is gone, its model failed...
            outcome = DatasetBuildFailed(dataset_id=ev.dataset_id, reason=failure(exc.detail))
        except Exception as exc:
            if not disk_full(exc) or passing(exc):
                raise  # a local disk full or the database down: tried again until it passes
            # JetStream's store is full: the object's chunks were taken back (nothing of it is
            # left or registered); trying again fails the same until a person frees space.
            outcome = DatasetBuildFailed(dataset_id=ev.dataset_id, reason=failure(STORE_FULL))
        await self.end(rec, ev, outcome)

    async def end(self, rec: RecordedEvent, ev: DatasetBuildRequested, outcome) -> None:
        """The build's last word, built or failed, once (a redelivery decides nothing)."""
        await BUILD.execute(
            self.host.store, rec.tenant, ev.dataset_id, lambda s: domain.decide_end(s, outcome),
            event_id=derived_id(rec.event_id, "end"),
        )  # fmt: skip

    async def build(
        self, tenant: str, ev: DatasetBuildRequested, progress: Progress
    ) -> DatasetBuilt:
        spec, settings = ev.spec, self.host.settings
        gather = Gatherer(self.host.nc, tenant, ev.expert_id, settings.generation_rate)

        last = {"stage": None, "at": 0.0}

        async def tick(stage: str, done: int, total: int) -> None:
            """Progress on the log (a new stage at once, else at most every TICK_S), and
            a cancel heard."""
            now = time.monotonic()
            if stage == last["stage"] and done < total and now - last["at"] < TICK_S:
                return
            last.update(stage=stage, at=now)
            await progress()
            state, _ = await BUILD.load(self.host.store, tenant, ev.dataset_id)
            if state.status == "cancelled":
                raise Cancelled
            step = DatasetBuildProgressed(
                dataset_id=ev.dataset_id, stage=stage, done=done, total=total
            )
            await self.host.store.append(
                CONTEXT, tenant, AGGREGATE, ev.dataset_id, step, expected_seq=None
            )

        await tick("reading the expert's style", 0, 4)
        persona = await gather.persona()
        system = persona.text
        candidates, unusable = manual_candidates(spec, system), []
        if spec.sources.feedback or spec.sources.traces:
            await tick("reading the answers", 1, 4)
            traces = await gather.traces()
            if spec.sources.feedback:
                candidates += feedback_candidates(traces, system)
            if spec.sources.traces:
                candidates += traces_candidates(traces, spec.sources.traces, system)
        if spec.sources.knowledge:
            await tick("writing questions from the documents", 2, 4)
            written, unusable = await self.unless_cancelled(
                tenant,
                ev.dataset_id,
                gather.knowledge(spec.sources.knowledge, system, tick, spec.seed),
            )
            candidates += written
        await tick("checking the examples", 3, 4)
        count = await self.content.token_counter()
        accepted, rejections = await asyncio.to_thread(
            screen,
            candidates,
            count=count,
            max_seq_tokens=settings.max_seq_length,
            banned_topics=persona.banned_topics,
            max_examples=spec.max_examples,
            seed=spec.seed,
        )
        rejections = unusable + rejections
        examples = assign(accepted, spec.seed)
        stored = await self.content.put_examples(tenant, ev.expert_id, examples)
        rejected = await self.content.put_rejections(tenant, ev.expert_id, rejections)
        await tick("done", 4, 4)
        return DatasetBuilt(
            dataset_id=ev.dataset_id,
            expert_id=ev.expert_id,
            content=stored,
            rejections=rejected,
            counts=counts_of(examples, dict(Counter(r.code for r in rejections))),
            min_examples=settings.min_training_examples,
        )

    async def unless_cancelled(self, tenant: str, dataset_id: str, work):
        """`work`'s result, or Cancelled as soon as a person cancels (a model call can take
        minutes; the build must not wait for it to notice)."""

        async def cancelled() -> bool:
            state, _ = await BUILD.load(self.host.store, tenant, dataset_id)
            return state.status == "cancelled"

        return await unless_cancelled(work, cancelled, poll_s=CANCEL_POLL_S)

    async def gave_up(self, rec: RecordedEvent, error: BaseException) -> None:
        """Every attempt failed: the build is decided as failed, with what went wrong."""
        ev = rec.event
        if not isinstance(ev, DatasetBuildRequested):
            return
        reason = (
            f"Simtune tried {self.host.settings.max_deliveries} times and failed each time"
            f" ({type(error).__name__})"
        )
        if disk_full(error):
            reason = STORE_FULL
        failed = DatasetBuildFailed(dataset_id=ev.dataset_id, reason=failure(reason))
        await self.end(rec, ev, failed)


def failure(detail: str) -> str:
    return f"The dataset could not be built: {detail}"[:500]
