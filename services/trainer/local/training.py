"""A local run: the training child process, watched from the service.

Training runs in its own process (`python -m services.trainer.training JOB`), so a crash or
an out-of-memory kill of the child cannot take the service down, and answering never waits
on it. The child reports one JSON line at a time on stdout (started, progress, checkpoint,
done or error); this side turns them into events, stores each checkpoint in the
`checkpoints` bucket (a restarted worker elsewhere resumes from it), and:

- a child killed by a signal is started again from its last checkpoint, up to
  `SIMTUNE_TRAIN_RESTARTS` times, then the run fails saying so;
- a child that reports an error, or ends without `done`, fails the run with its reason;
- a cancel stops the child (SIGTERM, then SIGKILL) within seconds; nothing is published.

The child shares the machine with answering: it runs `SIMTUNE_TRAIN_NICE` steps below the
service, its numeric libraries hold to `SIMTUNE_TRAIN_THREADS` threads (every core but one
by default), and it dies with the service (as does Axolotl, its own child).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections import deque
from pathlib import Path

import msgspec

from contracts.trainer import CHECKPOINTS, RunCheckpointed, RunMetrics
from runtime.cancellable import Cancelled
from runtime.child_env import child_env, lowered, thread_caps, training_threads
from runtime.logs import get_logger
from runtime.models import ModelUnavailable, model_source
from runtime.objects import ObjectCorrupt, ObjectMissing
from services.trainer import data
from services.trainer.local.workdir import WorkDir
from services.trainer.publish import publish_adapter
from services.trainer.running import RunContext, RunFailure

log = get_logger(__name__)
STOP_GRACE_S = 5.0
STDERR_LINES = 40
_CHECKPOINT = re.compile(r"checkpoint-(\d+)$")


class ChildKilled(Exception):
    def __init__(self, sig: int) -> None:
        super().__init__(f"signal {sig}")
        self.sig = sig


def latest_checkpoint(folder: Path) -> int:
    steps = [
        int(m.group(1)) for p in folder.glob("checkpoint-*") if (m := _CHECKPOINT.search(p.name))
    ]
    return max(steps, default=0)


class LocalTraining:
    def __init__(self, host) -> None:
        self.host = host

    async def __call__(self, ctx: RunContext) -> None:
        work = WorkDir(self.host.settings.home, ctx.tenant, ctx.run_id)
        try:
            await self.train(ctx, work)
        except (Cancelled, RunFailure):
            await self.forget_checkpoints(ctx)  # nothing of an ended run is kept
            await asyncio.to_thread(work.remove)
            raise

    async def train(self, ctx: RunContext, work: WorkDir) -> None:
        ev, settings = ctx.ev, self.host.settings
        await self.prepare(ctx, work)
        kills = 0
        while True:
            resumed = latest_checkpoint(work.checkpoints)
            await ctx.begin(resumed)
            try:
                metrics = await ctx.watch_cancel(self.child(ctx, work))
                break
            except ChildKilled as exc:
                kills += 1
                log.warning("run.child_killed", run_id=ctx.run_id, signal=exc.sig, kills=kills)
                if kills > settings.train_restarts:
                    raise RunFailure(
                        f"The training process was stopped by the system {kills} times"
                        f" (signal {exc.sig}); it may have run out of memory. Try a smaller"
                        " batch_size or max_seq_length."
                    ) from exc
        await publish_adapter(ctx, work.output, metrics, backend=ev.backend)
        await self.forget_checkpoints(ctx)
        await asyncio.to_thread(work.remove)

    async def prepare(self, ctx: RunContext, work: WorkDir) -> None:
        """The job file, the data and (on a fresh worker) the last checkpoint."""
        ev, settings = ctx.ev, self.host.settings
        try:
            content = await data.load(self.host.objects, ev.dataset, ctx.tenant)
        except (ObjectMissing, ObjectCorrupt) as exc:
            raise RunFailure(f"The dataset's examples cannot be read: {exc}.") from exc
        try:
            model_path = await asyncio.to_thread(model_source, ev.base_model, settings.home)
        except ModelUnavailable as exc:
            raise RunFailure(str(exc)) from exc
        await asyncio.to_thread(work.create)
        await asyncio.to_thread(work.train.write_bytes, content.train)
        await asyncio.to_thread(work.val.write_bytes, content.val)
        job = {
            "model_path": model_path,
            "train_path": str(work.train),
            "val_path": str(work.val),
            "output_dir": str(work.output),
            "checkpoint_dir": str(work.checkpoints),
            "config": msgspec.to_builtins(ev.config),
            "backend": ev.backend,
            "checkpoint_steps": settings.train_checkpoint_steps,
            "resume": True,
            "step_delay_s": settings.train_step_delay_ms / 1000,
            "threads": training_threads(settings.train_threads),
        }
        await asyncio.to_thread(work.job.write_text, json.dumps(job, indent=1))
        state = ctx.state
        if state.checkpoint is not None and latest_checkpoint(work.checkpoints) == 0:
            try:
                archive = await self.host.objects.get(state.checkpoint, tenant=ctx.tenant)
            except (ObjectMissing, ObjectCorrupt) as exc:
                log.warning("run.checkpoint_unreadable", run_id=ctx.run_id, error=str(exc))
                return  # start over: slower, never wrong
            await asyncio.to_thread(work.unpack_checkpoint, archive)

    async def child(self, ctx: RunContext, work: WorkDir) -> RunMetrics:
        threads = training_threads(self.host.settings.train_threads)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.trainer.training",
            str(work.job),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=lowered(self.host.settings.train_nice),
            env=child_env(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **thread_caps(threads)),
        )
        stderr: deque[str] = deque(maxlen=STDERR_LINES)
        drain = asyncio.create_task(_collect(proc.stderr, stderr))
        try:
            outcome = await self.follow(ctx, proc)
            await proc.wait()
        finally:
            await _stop(proc)
            drain.cancel()
            await asyncio.gather(drain, return_exceptions=True)
        if isinstance(outcome, RunMetrics):
            return outcome
        if isinstance(outcome, str):
            raise RunFailure(outcome)
        if proc.returncode is not None and proc.returncode < 0:
            raise ChildKilled(-proc.returncode)
        last = next((line for line in reversed(stderr) if line.strip()), "no message")
        raise RunFailure(f"The training process ended unexpectedly: {last[:300]}")

    async def follow(self, ctx: RunContext, proc) -> RunMetrics | str | None:
        """Read the child's lines until it ends: its metrics, its error, or None."""
        total = ctx.ev.estimate.total_steps
        previous: str | None = None
        while line := await proc.stdout.readline():
            try:
                said = json.loads(line)
            except ValueError:
                continue
            kind = said.get("event")
            if kind == "started":
                total = int(said.get("total_steps") or total)
                await ctx.report(int(said.get("resumed_from_step") or 0), total, force=True)
            elif kind == "progress":
                await ctx.report(
                    int(said["step"]),
                    int(said.get("total_steps") or total),
                    loss=said.get("loss"),
                    eval_loss=said.get("eval_loss"),
                    learning_rate=said.get("learning_rate"),
                    epoch=said.get("epoch"),
                )
            elif kind == "checkpoint":
                previous = await self.keep_checkpoint(
                    ctx, Path(said["path"]), said["step"], previous
                )
            elif kind == "done":
                return msgspec.convert(said.get("metrics") or {}, RunMetrics)
            elif kind == "error":
                return str(said.get("reason") or "The training process failed.")
        return None

    async def keep_checkpoint(
        self, ctx: RunContext, folder: Path, step: int, previous: str | None
    ) -> str | None:
        archive = await asyncio.to_thread(WorkDir.pack_if_whole, folder)
        if archive is None:
            log.info("trainer.checkpoint_replaced", run_id=ctx.run_id, step=step)
            return previous
        name = f"{ctx.tenant}/{ctx.run_id}/checkpoint-{int(step)}.tar"
        ref = await self.host.objects.put(CHECKPOINTS, name, archive, tenant=ctx.tenant)
        if not await ctx.append(RunCheckpointed(run_id=ctx.run_id, step=int(step), checkpoint=ref)):
            await self.host.objects.delete(CHECKPOINTS, name)  # ended meanwhile: keep nothing
            raise Cancelled
        if previous and previous != name:
            await self.host.objects.delete(CHECKPOINTS, previous)
        return name

    async def forget_checkpoints(self, ctx: RunContext) -> None:
        """Every checkpoint archive the run left, not only the last one on the log: a training
        process killed between storing one and recording it leaves an archive behind."""
        await self.host.objects.delete_under(CHECKPOINTS, f"{ctx.tenant}/{ctx.run_id}/")


async def _collect(stream, lines: deque) -> None:
    while line := await stream.readline():
        lines.append(line.decode("utf-8", "replace").rstrip())


async def _stop(proc) -> None:
    """End the child and anything it started: SIGTERM, then SIGKILL after a grace period."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
