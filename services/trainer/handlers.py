"""Commands and queries of the trainer: configure an expert's fine-tuning, queue and cancel
runs, read runs, settings and estimates."""

from __future__ import annotations

import hashlib
import uuid

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.trainer import (
    RANGES,
    CancelFinetune,
    ConfigureFinetune,
    Estimate,
    EstimateRun,
    FinetuneConfigured,
    FinetuneSettings,
    GetFinetuneSettings,
    GetRun,
    HostedProvider,
    ListRuns,
    RunAccepted,
    RunList,
    RunQueued,
    RunView,
    StartFinetune,
    TrainConfig,
)
from runtime.experts import require_expert
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.rpc import not_found
from runtime.secrets import SecretBox
from runtime.service import ServiceHost
from services.trainer import backends, data, domain, views
from services.trainer.aggregates import CONFIGS, LINES, RUNS
from services.trainer.schedule import next_tick

STREAM = "TRAINER"
CANCEL_RACES = 20


class Plan:
    """A run as it would be queued: what `start` appends and `estimate` shows."""

    def __init__(self, config, backend, base_model, dataset, estimate, settings) -> None:
        self.config, self.backend, self.base_model = config, backend, base_model
        self.dataset, self.estimate, self.settings = dataset, estimate, settings


class TrainerHandlers:
    def __init__(self, host: ServiceHost, secrets: SecretBox, tokens: data.TokenCounter) -> None:
        self.host, self.secrets, self.tokens = host, secrets, tokens

    # ---- commands ---------------------------------------------------------------------------

    async def configure(self, cmd: ConfigureFinetune) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)

        def decide(state: domain.SettingsState) -> FinetuneConfigured:
            hosted, sealed = None, None
            if cmd.hosted is not None:
                sealed = state.api_key_sealed if cmd.hosted.api_key is None else None
                if cmd.hosted.api_key:
                    sealed = self.secrets.seal(cmd.hosted.api_key)
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
        plan = await self.plan(cmd.tenant, cmd.expert_id, cmd.dataset_id, cmd.config)
        if plan.backend == "openai" and not cmd.confirm:
            raise DomainError(ErrorCode.CONFIRM, confirm_sentence(plan.estimate))
        seed = f"{cmd.tenant}/{cmd.expert_id}/{uuid.uuid4().hex}"
        outcome = await self.queue(cmd.tenant, cmd.expert_id, plan, cmd.trigger, seed)
        return RunAccepted(run_id=outcome[0], seq=outcome[1], estimate=plan.estimate)

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
        await self._run(cmd.tenant, cmd.run_id)
        outcome = await RUNS.execute(
            self.host.store,
            cmd.tenant,
            cmd.run_id,
            lambda s: domain.decide_cancel(s, cmd.run_id),
            races=CANCEL_RACES,  # a running run records its progress every second
        )
        return Accepted(id=cmd.run_id, seq=outcome.seq)

    # ---- planning ---------------------------------------------------------------------------

    async def plan(
        self, tenant: str, expert_id: str, dataset_id: str | None, config: TrainConfig | None
    ) -> Plan:
        settings, _ = await CONFIGS.load(self.host.store, tenant, expert_id)
        config = config or settings.config
        hosted_ready = settings.hosted is not None and settings.api_key_sealed is not None
        backend = backends.resolve(config.backend, hosted_configured=hosted_ready)
        dataset = await data.ready_dataset(self.host.nc, tenant, expert_id, dataset_id)
        data.check_enough(dataset, self.host.settings.min_training_examples)
        try:
            content = await data.load(self.host.objects, dataset.content)
        except (ObjectMissing, ObjectCorrupt) as exc:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"the examples of dataset {dataset.id} cannot be read ({exc}); build it again",
            ) from exc
        line, _ = await LINES.load(self.host.store, tenant, expert_id)
        if backend == "openai":
            base_model = settings.hosted.model
            tokens = content.characters // data.CHARS_PER_TOKEN
            rate = None
        else:
            base_model = config.base_model or self.host.settings.base_model
            tokens = await self.tokens.count(base_model, content.train)
            async with self.host.engine.connect() as conn:
                rate = await views.measured_tokens_per_s(conn, base_model, backend)
        estimate = data.estimate(
            config,
            backend,
            content,
            tokens,
            price_per_million=settings.hosted.price_per_million_tokens_usd
            if settings.hosted
            else None,
            local_tokens_per_s=rate,
            budget_usd=self.budget_of(settings),
            spent_usd=line.committed_usd,
        )
        return Plan(config, backend, base_model, dataset, estimate, settings)

    # ---- queries ----------------------------------------------------------------------------

    async def get(self, query: GetRun) -> RunView:
        await self.host.caught_up(STREAM, query.after_seq)
        return await self._run(query.tenant, query.run_id)

    async def list(self, query: ListRuns) -> RunList:
        await self.host.caught_up(STREAM, query.after_seq)
        async with self.host.engine.connect() as conn:
            return RunList(
                runs=await views.list_runs(conn, query.tenant, query.expert_id, query.limit)
            )

    async def estimate(self, query: EstimateRun) -> Estimate:
        await require_expert(self.host.nc, query.tenant, query.expert_id)
        plan = await self.plan(query.tenant, query.expert_id, query.dataset_id, query.config)
        return plan.estimate

    async def settings(self, query: GetFinetuneSettings) -> FinetuneSettings:
        await require_expert(self.host.nc, query.tenant, query.expert_id)
        await self.host.caught_up(STREAM, query.after_seq)
        state, _ = await CONFIGS.load(self.host.store, query.tenant, query.expert_id)
        line, _ = await LINES.load(self.host.store, query.tenant, query.expert_id)
        async with self.host.engine.connect() as conn:
            row = await views.settings_row(conn, query.tenant, query.expert_id)
            newest = await views.newest_dataset(conn, query.tenant, query.expert_id)
            trained = await views.examples_of_last_run(conn, query.tenant, query.expert_id)
            active = await views.active_run(conn, query.tenant, query.expert_id)
        schedule = self.host.settings.finetune_schedule
        examples = newest.examples if newest else 0
        return FinetuneSettings(
            expert_id=query.expert_id,
            config=state.config,
            hosted=state.hosted,
            budget_usd=self.budget_of(state),
            spent_usd=round(line.committed_usd, 4),
            schedule=schedule,
            next_tick=next_tick(schedule),
            last_skip=row.last_skip if row else None,
            last_skip_at=row.last_skip_at.isoformat() if row and row.last_skip_at else None,
            dataset_id=newest.id if newest else None,
            dataset_examples=examples,
            examples_since_last_run=max(0, examples - trained),
            min_examples=self.host.settings.min_training_examples,
            active_run=active,
            ranges={key: [low, high] for key, (low, high) in RANGES.items()},
        )

    # ---- helpers ----------------------------------------------------------------------------

    def budget_of(self, settings: domain.SettingsState) -> float | None:
        """The expert's hosted budget: its settings', else SIMTUNE_FINETUNE_BUDGET_USD."""
        if settings.budget_usd is not None:
            return settings.budget_usd
        return self.host.settings.finetune_budget_usd

    async def _run(self, tenant: str, run_id: str) -> RunView:
        async with self.host.engine.connect() as conn:
            view = await views.get_run(conn, tenant, run_id)
        if view is None:
            raise not_found(f"run {run_id}")
        return view


def confirm_sentence(estimate: Estimate) -> str:
    budget = (
        f" of a budget of ${estimate.budget_usd:.2f}" if estimate.budget_usd is not None else ""
    )
    return (
        f"this hosted run is estimated at ${estimate.cost_usd or 0:.2f} for"
        f" {estimate.training_tokens} training tokens (${estimate.spent_usd:.2f} spent so far"
        f"{budget}); confirm it to start"
    )
