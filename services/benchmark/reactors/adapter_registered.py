"""After every fine-tune (`AdapterRegistered` from a training run), a quick run of the new
adapter on the expert's own set (the built-in bank when it has none), as a candidate for
promotion (`run_completed.py` decides). When the active version has no run on that set yet, it
is measured first, to have something to beat. Each run is named after the registration event,
so a redelivered event queues no second run. `SIMTUNE_BENCH_AFTER_TRAINING=off`, or the
expert's own setting, turns this off."""

from __future__ import annotations

from contracts.registry import AdapterRegistered
from runtime.eventstore import RecordedEvent
from runtime.reactor import Progress
from services.benchmark import versions, views
from services.benchmark.aggregates import BENCHES
from services.benchmark.commands import BenchmarkCommands


class AfterTraining:
    def __init__(self, commands: BenchmarkCommands) -> None:
        self.commands, self.host = commands, commands.host

    async def on_registry(self, rec: RecordedEvent, _: Progress) -> None:
        ev = rec.event
        if not isinstance(ev, AdapterRegistered) or ev.source != "trained" or not ev.valid:
            return
        bench, _ = await BENCHES.load(self.host.store, rec.tenant, ev.expert_id)
        if not (self.host.settings.bench_after_training and bench.settings.after_training):
            return
        suite = "expert" if bench.expert_set else "builtin"
        active = await versions.active(self.host.nc, rec.tenant, ev.expert_id)
        async with self.host.engine.connect() as conn:
            measured = await views.latest(conn, rec.tenant, ev.expert_id, suite, active)
        if measured is None:  # first measure what answers now, to have something to beat
            await self.commands.queue(
                rec.tenant, ev.expert_id, suite, "quick", active, "after_training",
                seed=f"after-active:{rec.event_id}",
            )  # fmt: skip
        await self.commands.queue(
            rec.tenant, ev.expert_id, suite, "quick", ev.adapter_id, "after_training",
            seed=f"after:{rec.event_id}", candidate=True,
        )  # fmt: skip
