"""Commands of the trainer: configure an expert's fine-tuning, queue a run (a person's start,
within their limit of runs at once, or a schedule tick), cancel a run."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import text

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.trainer import (
    CancelFinetune,
    ConfigureFinetune,
    Estimate,
    FinetuneConfigured,
    GetRun,
    HostedProvider,
    RunAccepted,
    RunQueued,
    StartFinetune,
)
from runtime.backend_urls import check_base_url
from runtime.experts import require_expert
from runtime.keyring import ProviderKeys
from runtime.service import ServiceHost
from services.trainer import domain
from services.trainer.aggregates import CONFIGS, LINES, RUNS
from services.trainer.hosted import keys as hosted_keys
from services.trainer.planning import Plan, Planner
from services.trainer.queries import TrainerQueries

CANCEL_RACES = 20
CAUGHT_UP_S = 5.0  # how long the runs limit waits for the read model to show the latest runs
GOING = text(
    "SELECT count(*) FROM trainer.runs WHERE tenant = :t AND status IN ('queued', 'running')"
)
TOO_MANY_RUNS = (
    "you have {going} training runs queued or running, and {limit} at once is the most one"
    " person may have (SIMTUNE_MAX_RUNS_PER_USER); wait for one to end or cancel one, then"
    " start this one again (or ask the owner to raise the limit)"
)


class TrainerCommands:
    def __init__(
        self, host: ServiceHost, secrets: ProviderKeys, planner: Planner, queries: TrainerQueries
    ) -> None:
        self.host, self.secrets, self.planner, self.queries = host, secrets, planner, queries

    async def configure(self, cmd: ConfigureFinetune) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        fresh = None  # a new key, sealed with the tenant's data key before deciding
        if cmd.hosted is not None:
            allowed = self.host.settings.allowed_backend_hosts
            await check_base_url(cmd.hosted.base_url, allowed)
            if cmd.hosted.api_key:
                fresh = await hosted_keys.seal(self.secrets, cmd.tenant, cmd.hosted.api_key)

        def decide(state: domain.SettingsState) -> FinetuneConfigured:
            hosted, sealed = None, None
            if cmd.hosted is not None:
                # A key is kept only for the server it was given for: sent to another address,
                # it would hand one provider's secret to whoever runs the other.
                same_server = state.hosted is not None and (
                    state.hosted.base_url == cmd.hosted.base_url
                )  # as the expert's model backend decides it
                kept = state.api_key_sealed if same_server else None
                sealed = kept if cmd.hosted.api_key is None else None
                if cmd.hosted.api_key:
                    sealed = fresh
                hosted = HostedProvider(
                    base_url=cmd.hosted.base_url,
                    model=cmd.hosted.model,
                    price_per_million_tokens_usd=cmd.hosted.price_per_million_tokens_usd,
                    key_set=sealed is not None,
                )
            return FinetuneConfigured(
                expert_id=cmd.expert_id,
                config=cmd.config,
                hosted=hosted,
                api_key_sealed=sealed,
                budget_usd=cmd.budget_usd,
            )

        outcome = await CONFIGS.execute(self.host.store, cmd.tenant, cmd.expert_id, decide)
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    async def start(self, cmd: StartFinetune) -> RunAccepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        await self._within_run_limit(cmd.tenant)
        plan = await self.planner.plan(cmd.tenant, cmd.expert_id, cmd.dataset_id, cmd.config)
        if plan.backend == "openai" and not cmd.confirm:
            raise DomainError(ErrorCode.CONFIRM, confirm_sentence(plan.estimate))
        seed = f"{cmd.tenant}/{cmd.expert_id}/{uuid.uuid4().hex}"
        outcome = await self.queue(cmd.tenant, cmd.expert_id, plan, cmd.trigger, seed)
        return RunAccepted(run_id=outcome[0], seq=outcome[1], estimate=plan.estimate)

    async def _within_run_limit(self, tenant: str) -> None:
        """Refuse (429) a person's new run while `SIMTUNE_MAX_RUNS_PER_USER` of theirs are
        queued or running: one person's runs cannot take the trainer from everyone else. The
        runs read model is read once it shows the log as it stands (one that lags longer is
        read as it is: the cap is a little late, not wrong). A schedule's tick is not refused:
        it queues one run per expert a week, and there is nobody to tell."""
        limit = self.host.settings.max_runs_per_user
        if limit <= 0:
            return
        try:
            await self.host.caught_up_with_log(timeout=CAUGHT_UP_S)
        except DomainError as exc:
            if exc.code != ErrorCode.UNAVAILABLE:
                raise
        async with self.host.engine.connect() as conn:
            going = int(await conn.scalar(GOING, {"t": tenant}) or 0)
        if going >= limit:
            raise DomainError(
                ErrorCode.RATE_LIMITED, TOO_MANY_RUNS.format(going=going, limit=limit)
            )

    async def queue(
        self, tenant: str, expert_id: str, plan: Plan, trigger: str, seed: str
    ) -> tuple[str, int]:
        """Append the run on the expert's line (the budget decided there); (run id, seq).
        `seed` names the run: the same seed (a schedule tick) queues one run, however often."""
        run_id = hashlib.sha256(seed.encode()).hexdigest()[:16]
        settings = plan.settings

        def decide(state: domain.LineState) -> RunQueued:
            domain.check_budget(state, plan.estimate, plan.estimate.budget_usd)
            return RunQueued(
                run_id=run_id,
                expert_id=expert_id,
                number=state.runs + 1,
                dataset_id=plan.dataset.id,
                dataset=plan.dataset.content,
                config=plan.config,
                backend=plan.backend,
                base_model=plan.base_model,
                trigger=trigger,
                estimate=plan.estimate,
                hosted=settings.hosted if plan.backend == "openai" else None,
                api_key_sealed=settings.api_key_sealed if plan.backend == "openai" else None,
            )

        outcome = await LINES.execute(
            self.host.store, tenant, expert_id, decide, event_id=f"queue-{run_id}"
        )
        return run_id, outcome.seq

    async def cancel(self, cmd: CancelFinetune) -> Accepted:
        await self.queries.get(GetRun(tenant=cmd.tenant, run_id=cmd.run_id))  # 404 when unknown
        outcome = await RUNS.execute(
            self.host.store,
            cmd.tenant,
            cmd.run_id,
            lambda s: domain.decide_cancel(s, cmd.run_id),
            races=CANCEL_RACES,  # a running run records its progress every second
        )
        return Accepted(id=cmd.run_id, seq=outcome.seq)


def confirm_sentence(estimate: Estimate) -> str:
    budget = (
        f" of a budget of ${estimate.budget_usd:.2f}" if estimate.budget_usd is not None else ""
    )
    return (
        f"this hosted run is estimated at ${estimate.cost_usd or 0:.2f} for"
        f" {estimate.training_tokens} training tokens (an estimate, counted high: the provider"
        f" bills the tokens it trains; ${estimate.spent_usd:.2f} spent or committed so far"
        f"{budget}); confirm it to start"
    )
