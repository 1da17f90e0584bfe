"""ExpertDeleted (on the EXPERT stream) -> nothing of the expert's benchmarks is left (the
reactor "benchmark.cascade"): its runs still queued or running are cancelled, then one
`BenchErased` on its bench drops its runs, alerts and settings from the views (so its
schedule stops too). Decided once, with event ids derived from the ExpertDeleted's, so a
redelivery appends nothing."""

from __future__ import annotations

from sqlalchemy import text

from contracts.benchmark import BENCH, CONTEXT, BenchErased
from runtime.cascade import cancel_then_erase, erased_flag
from runtime.eventstore import RecordedEvent
from runtime.reactor import Progress
from runtime.service import Hosted
from services.benchmark import domain
from services.benchmark.aggregates import RUNS

# The expert's bench seen only as "was it erased?": enough to decide the erasure once.
ERASED = erased_flag(CONTEXT, BENCH, BenchErased)
GOING = text(
    "SELECT id FROM benchmark.runs WHERE tenant = :t AND expert_id = :e"
    " AND status IN ('queued', 'running')"
)


class Cascade(Hosted):
    async def on_expert(self, rec: RecordedEvent, _: Progress) -> None:
        await cancel_then_erase(
            self.host, rec, going=GOING, work=RUNS, line=ERASED, races=5,
            cancel=lambda s, run_id: domain.decide_cancel(s, run_id) if domain.going(s) else None,
        )  # fmt: skip
