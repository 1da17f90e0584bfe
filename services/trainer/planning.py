"""Planning a run before it is queued: which backend trains it, on which dataset version and
base model, and what it will take (steps, tokens, time, cost against the expert's budget).
A start queues the plan, an estimate shows it, the schedule queues it on its own."""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.dataset import DatasetView
from contracts.trainer import Estimate, TrainConfig
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.service import ServiceHost
from services.trainer import backends, data, domain, views
from services.trainer.aggregates import CONFIGS, LINES


class Plan:
    """A run as it would be queued: what `start` appends and `estimate` shows."""

    def __init__(
        self,
        config: TrainConfig,
        backend: str,
        base_model: str,
        dataset: DatasetView,
        estimate: Estimate,
        settings: domain.SettingsState,
    ) -> None:
        self.config, self.backend, self.base_model = config, backend, base_model
        self.dataset, self.estimate, self.settings = dataset, estimate, settings


class Planner:
    def __init__(self, host: ServiceHost, tokens: data.TokenCounter) -> None:
        self.host, self.tokens = host, tokens

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
            content = await data.load(self.host.objects, dataset.content, tenant)
        except (ObjectMissing, ObjectCorrupt) as exc:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"the examples of dataset {dataset.id} cannot be read ({exc}); build it again",
            ) from exc
        line, _ = await LINES.load(self.host.store, tenant, expert_id)
        if backend == "openai":
            base_model = settings.hosted.model
            tokens = content.cautious_tokens
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

    def budget_of(self, settings: domain.SettingsState) -> float | None:
        """The expert's hosted budget: its settings', else SIMTUNE_FINETUNE_BUDGET_USD."""
        if settings.budget_usd is not None:
            return settings.budget_usd
        return self.host.settings.finetune_budget_usd
