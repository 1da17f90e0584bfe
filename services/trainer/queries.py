"""Queries of the trainer: a run, an expert's runs, its fine-tuning settings (with where its
data stands for the next run) and the estimate of a run before it is queued."""

from __future__ import annotations

from contracts import trainer
from runtime.experts import require_expert
from runtime.service import ServiceHost
from services.trainer import views
from services.trainer.aggregates import CONFIGS, LINES
from services.trainer.planning import Planner
from services.trainer.reactors.schedule import next_tick


class TrainerQueries:
    def __init__(self, host: ServiceHost, planner: Planner) -> None:
        self.host, self.planner = host, planner

    async def get(self, query: trainer.GetRun) -> trainer.RunView:
        return await self.host.read_by_id(query, views.get_run, query.run_id, "run")

    async def list(self, query: trainer.ListRuns) -> trainer.RunList:
        runs = await self.host.read(
            query, lambda conn: views.list_runs(conn, query.tenant, query.expert_id, query.limit)
        )
        return trainer.RunList(runs=runs)

    async def estimate(self, query: trainer.EstimateRun) -> trainer.Estimate:
        await require_expert(self.host.nc, query.tenant, query.expert_id)
        plan = await self.planner.plan(
            query.tenant, query.expert_id, query.dataset_id, query.config
        )
        return plan.estimate

    async def settings(self, query: trainer.GetFinetuneSettings) -> trainer.FinetuneSettings:
        await require_expert(self.host.nc, query.tenant, query.expert_id)
        row, waiting = await self.host.read(
            query, lambda conn: views.settings_of(conn, query.tenant, query.expert_id)
        )
        state, _ = await CONFIGS.load(self.host.store, query.tenant, query.expert_id)
        line, _ = await LINES.load(self.host.store, query.tenant, query.expert_id)
        schedule = self.host.settings.finetune_schedule
        return trainer.FinetuneSettings(
            expert_id=query.expert_id,
            config=state.config,
            hosted=state.hosted,
            budget_usd=self.planner.budget_of(state),
            spent_usd=round(line.committed_usd, 4),
            schedule=schedule,
            next_tick=next_tick(schedule),
            last_skip=row.last_skip if row else None,
            last_skip_at=row.last_skip_at.isoformat() if row and row.last_skip_at else None,
            dataset_id=waiting.dataset_id,
            dataset_examples=waiting.examples,
            examples_since_last_run=max(0, waiting.fresh),
            min_examples=self.host.settings.min_training_examples,
            active_run=waiting.active_run,
            ranges={key: [low, high] for key, (low, high) in trainer.RANGES.items()},
        )
