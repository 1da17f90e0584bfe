"""When a run ends, whatever ended it: its provider job stops billing, and its spend is
settled on the expert's line.

- **The job.** A hosted run that failed (after its retries, or at once), or was cancelled
  while no worker followed it (queued, between retries, its expert deleted), may have a job
  still running at the provider. The run's log says so: `HostedJobCreated` names the job,
  `HostedJobRequested` its key (the job may have been created without its id reaching the
  log), and the job is found and cancelled. A job already ended is left alone, so a
  redelivery, or a worker that cancelled it first, changes nothing. A provider out of reach
  raises: the work queue tries again later.
- **The spend.** A hosted run's estimate counted against the budget while it ran; once it
  ends it counts what it cost instead (`RunSettled` on the line, once per run):
  succeeded, the cost the run recorded (from the tokens the provider says it trained);
  failed or cancelled with a job, the provider's trained tokens when the job reports them,
  else the estimate is kept (the provider may have billed and we cannot tell, so the budget
  errs towards holding back); no job was ever created, nothing.
"""

from __future__ import annotations

from contracts.trainer import (
    CONTEXT,
    LINE,
    AdapterTrained,
    RunCancelled,
    RunFailed,
    RunQueued,
    RunSettled,
)
from runtime.eventstore import RecordedEvent, derived_id
from runtime.keyring import ProviderKeys
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.secrets import SecretUnreadable
from runtime.service import ServiceHost
from services.trainer import domain, views
from services.trainer.aggregates import LINES, RUNS
from services.trainer.hosted.client import ACTIVE, HostedFinetune
from services.trainer.hosted.keys import open_key
from services.trainer.hosted.provider import HostedError

log = get_logger(__name__)

ENDINGS = (AdapterTrained, RunFailed, RunCancelled)


class RunEnded:
    def __init__(self, host: ServiceHost, secrets: ProviderKeys) -> None:
        self.host, self.secrets = host, secrets

    async def on_run(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ENDINGS):
            return
        if isinstance(rec.event, AdapterTrained) and rec.event.backend != "openai":
            return  # a local run: no job, no bill
        run_id = rec.event.run_id
        state, _ = await RUNS.load(self.host.store, rec.tenant, run_id)
        expert_id = state.expert_id or await self._expert_of(rec.tenant, run_id)
        if expert_id is None:
            return  # not a run this service can place (its expert's views are gone)
        queued = await self._queued(rec.tenant, expert_id, run_id)
        if queued is None or queued.backend != "openai":
            return
        job = None
        if not isinstance(rec.event, AdapterTrained) and (state.hosted_job or state.job_key):
            job = await self._stop_job(rec.tenant, queued, state)
        cost, billed = self._cost(rec.event, queued, state, job)
        settled = RunSettled(run_id=run_id, cost_usd=round(cost, 4), billed=billed)
        await LINES.execute(
            self.host.store,
            rec.tenant,
            expert_id,
            lambda line: domain.decide_settle(line, settled),
            event_id=derived_id(rec.event_id, "settled"),
            correlation_id=rec.correlation_id,
            races=5,
        )

    async def _expert_of(self, tenant: str, run_id: str) -> str | None:
        view = await self.host.read_now(lambda conn: views.get_run(conn, tenant, run_id))
        return view.expert_id if view else None

    async def _queued(self, tenant: str, expert_id: str, run_id: str) -> RunQueued | None:
        events, _ = await self.host.store.load(CONTEXT, tenant, LINE, expert_id)
        for line_rec in events:
            if isinstance(line_rec.event, RunQueued) and line_rec.event.run_id == run_id:
                return line_rec.event
        return None

    async def _stop_job(
        self, tenant: str, queued: RunQueued, state: domain.RunState
    ) -> dict | None:
        """The run's job at the provider, cancelled if it was still going; None when the
        provider has no job for the run, {} when it cannot be told."""
        if queued.hosted is None or queued.api_key_sealed is None:
            return {}
        try:
            api_key = await open_key(self.secrets, tenant, queued.api_key_sealed)
        except SecretUnreadable as exc:
            log.warning("run.job_not_stopped", run_id=queued.run_id, reason=str(exc))
            return {}
        backoff_s = self.host.settings.hosted_backoff_s
        client = HostedFinetune(queued.hosted.base_url, api_key, backoff_s=backoff_s)
        try:
            if state.hosted_job:
                job = await client.job(state.hosted_job)
            else:
                job = await client.find_job(state.job_key)
            if job is None:
                return None
            if job.get("status") in ACTIVE:
                try:
                    await client.cancel(job["id"])
                except HostedError as exc:
                    if exc.retryable:
                        raise
                    # it ended on its own meanwhile: what it is now is what it cost
                job = await client.job(job["id"])
                log.info("run.job_stopped", run_id=queued.run_id, job_id=job.get("id"))
            return job
        except HostedError as exc:
            if exc.retryable:
                raise  # the provider is out of reach: the work queue tries again later
            log.warning("run.job_not_stopped", run_id=queued.run_id, reason=str(exc))
            return {}  # a job that cannot be read: its cost is unknown
        finally:
            await client.aclose()

    @staticmethod
    def _cost(
        ended: object, queued: RunQueued, state: domain.RunState, job: dict | None
    ) -> tuple[float, bool]:
        estimate = queued.estimate.cost_usd or 0.0
        price = queued.hosted.price_per_million_tokens_usd if queued.hosted else 0.0
        if isinstance(ended, AdapterTrained):
            if ended.cost_usd is None:
                return estimate, False
            return ended.cost_usd, True
        if not (state.hosted_job or state.job_key) or job is None:
            return 0.0, False  # no job was ever created: nothing was billed
        tokens = job.get("trained_tokens")
        if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0:
            return tokens * (price or 0.0) / 1e6, True
        return estimate, False
