"""A hosted run: the dataset uploaded to a provider that speaks the OpenAI fine-tuning API,
its job followed to the end, the resulting model recorded as the run's adapter.

Before the job is asked for, its key goes on the log (`HostedJobRequested`, the key derived
from the run id); the job carries it in its metadata. The job id goes on the log
(`HostedJobCreated`) as soon as the provider accepts it. A restarted worker follows that
job; one restarted between the request and its record (a crash, a lost answer, an outage)
finds the job at the provider by its key: one job per run, whatever happens. A cancel seen
while following cancels the provider's job; a run that ends any other way has its job
cancelled by `reactors/run_ended.py`. A blip in the connection is retried by the client; an error the
provider reports fails the run with the provider's words.
"""

from __future__ import annotations

from contracts.trainer import AdapterTrained, HostedJobCreated, HostedJobRequested, RunMetrics
from runtime.cancellable import Cancelled
from runtime.keyring import ProviderKeys
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.secrets import SecretUnreadable
from services.trainer import data
from services.trainer.hosted.client import HostedFinetune
from services.trainer.hosted.keys import open_key
from services.trainer.hosted.provider import HostedCancelled, HostedError
from services.trainer.publish import adapter_id_of
from services.trainer.running import RunContext, RunFailure


class HostedTraining:
    def __init__(self, host, secrets: ProviderKeys) -> None:
        self.host, self.secrets = host, secrets

    async def __call__(self, ctx: RunContext) -> None:
        ev = ctx.ev
        if ev.hosted is None or ev.api_key_sealed is None:
            raise RunFailure("This run has no hosted provider to train with.")
        try:
            api_key = await open_key(self.secrets, ctx.tenant, ev.api_key_sealed)
        except SecretUnreadable as exc:
            raise RunFailure(str(exc)) from exc
        settings = self.host.settings
        client = HostedFinetune(
            ev.hosted.base_url,
            api_key,
            poll_s=settings.hosted_poll_s,
            backoff_s=settings.hosted_backoff_s,
        )
        try:
            await ctx.begin(0)
            job_id = ctx.state.hosted_job or await self.create(ctx, client)
            outcome, last = await self.follow(ctx, client, job_id)
        except HostedCancelled as exc:
            raise Cancelled from exc
        except HostedError as exc:
            if exc.retryable:
                raise  # the work queue tries again later; the job id is on the log
            raise RunFailure(f"The hosted fine-tune failed: {exc}") from exc
        finally:
            await client.aclose()
        tokens = outcome.trained_tokens or ev.estimate.training_tokens
        cost = round(tokens * ev.hosted.price_per_million_tokens_usd / 1e6, 4)
        trained = AdapterTrained(
            run_id=ctx.run_id,
            adapter_id=adapter_id_of(ctx.run_id),
            expert_id=ev.expert_id,
            dataset_id=ev.dataset_id,
            base_model=ev.base_model,
            backend="openai",
            provider_model=outcome.model[:300],
            metrics=RunMetrics(steps=last["step"], train_loss=last["loss"]),
            cost_usd=cost,
            config=ev.config,
            train_examples=ev.estimate.train_examples,
        )
        if not await ctx.append(trained, "end"):
            raise Cancelled

    async def create(self, ctx: RunContext, client: HostedFinetune) -> str:
        ev = ctx.ev
        key = job_key(ctx.run_id)
        if ctx.state.job_key is not None:  # asked for before: the job may exist already
            job = await client.find_job(ctx.state.job_key)
            if job is not None:
                return await self.record(ctx, client, job["id"], *ctx.state.job_files)
            training, validation = ctx.state.job_files
        else:
            training, validation = await self.upload(ctx, client)
            requested = HostedJobRequested(
                run_id=ctx.run_id,
                expert_id=ev.expert_id,
                job_key=key,
                training_file=training[:200],
                validation_file=validation[:200] if validation else None,
            )
            if not await ctx.append(requested, "job-requested"):
                raise Cancelled
        job_id = await client.create_job(
            model=ev.hosted.model,
            training_file=training,
            validation_file=validation,
            n_epochs=ev.config.epochs,
            batch_size=ev.config.batch_size,
            learning_rate_multiplier=None,
            seed=ev.config.seed,
            suffix=f"simtune-{ev.number}",
            job_key=key,
        )
        return await self.record(ctx, client, job_id, training, validation)

    async def upload(self, ctx: RunContext, client: HostedFinetune) -> tuple[str, str | None]:
        ev = ctx.ev
        try:
            content = await data.load(self.host.objects, ev.dataset, ctx.tenant)
        except (ObjectMissing, ObjectCorrupt) as exc:
            raise RunFailure(f"The dataset's examples cannot be read: {exc}.") from exc
        await ctx.report(0, ev.estimate.total_steps, stage="uploading the examples", force=True)
        training = await client.upload(content.train, f"{ctx.run_id}-train.jsonl")
        validation = None
        if content.val:
            validation = await client.upload(content.val, f"{ctx.run_id}-val.jsonl")
        return training, validation

    async def record(
        self,
        ctx: RunContext,
        client: HostedFinetune,
        job_id: str,
        training: str,
        validation: str | None,
    ) -> str:
        created = HostedJobCreated(
            run_id=ctx.run_id,
            job_id=job_id[:200],
            training_file=training[:200],
            validation_file=validation[:200] if validation else None,
        )
        if not await ctx.append(created, "job"):
            await client.cancel(job_id)
            raise Cancelled
        return job_id

    async def follow(self, ctx: RunContext, client: HostedFinetune, job_id: str):
        """The provider's outcome, and the last step and loss it reported (the metrics)."""
        total = ctx.ev.estimate.total_steps
        last: dict = {"step": 0, "loss": None}

        async def on_progress(p) -> None:
            await ctx.heartbeat()
            last["step"] = p.step or last["step"]
            last["loss"] = p.loss if p.loss is not None else last["loss"]
            await ctx.report(
                p.step,
                p.total_steps or total,
                loss=p.loss,
                eval_loss=p.eval_loss,
                stage=p.stage,
            )

        async def cancelled() -> bool:  # asked every poll: the work queue hears from us too
            await ctx.heartbeat()
            return await ctx.cancelled()

        return await client.follow(job_id, on_progress, cancelled), last


def job_key(run_id: str) -> str:
    """The key a run's provider job is created under: one per run."""
    return f"simtune-{run_id}"
