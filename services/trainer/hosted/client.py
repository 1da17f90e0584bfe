"""A hosted fine-tune through the OpenAI fine-tuning API, or any server that speaks it:
upload the training file, create the job, follow it to its end, cancel it.

`follow` polls the job and its new events every `poll_s`; a lost connection, a timeout, a
429 or a 5xx is waited out (backoff from `backoff_s` doubling to `poll_s * 8`) for up to
`give_up_after_s` at a stretch, so a blip does not fail a long job. Uploads and job
creation try `attempts` times, then say the service could not be reached
(`HostedError(retryable=True)`). A job is created under a key (`job_key`, in its metadata,
which the list of jobs filters on): a try whose answer was lost, or a run restarted after a
crash, finds that job again by its key instead of paying for a second one.

Events: OpenAI lists them newest first, `after` paging towards older ones; a server that
lists them oldest first is followed with `after` as a cursor instead. Either way they are
reported in the order they happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import httpx

from services.trainer.hosted.chat_file import chat_jsonl_ok
from services.trainer.hosted.events import EventReader, HostedProgress, advance
from services.trainer.hosted.provider import (
    HostedCancelled,
    HostedError,
    Interrupted,
    ProviderHttp,
    Transient,
    trim,
)

ACTIVE = ("validating_files", "queued", "running")
KEY_FIELD = "simtune_job"  # the metadata field a job's key travels in
JOB_PAGES = 5  # pages of 100 jobs looked through for a key (newest first)
STAGES = {"validating_files": "Validating files", "queued": "Queued", "running": "Training"}


@dataclass(frozen=True)
class HostedOutcome:
    model: str  # the provider's fine-tuned model id
    trained_tokens: int | None


class HostedFinetune:
    chat_jsonl_ok = staticmethod(chat_jsonl_ok)

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_s: float = 30.0,
        poll_s: float = 2.0,
        give_up_after_s: float = 120.0,
        attempts: int = 4,
        backoff_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.poll_s = poll_s
        self.give_up_after_s = give_up_after_s
        self.attempts = attempts
        self._http = ProviderHttp(
            base_url,
            api_key,
            timeout_s=timeout_s,
            backoff_s=backoff_s,
            backoff_cap_s=poll_s * 8,
            transport=transport,
        )

    async def __aenter__(self) -> HostedFinetune:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def upload(self, jsonl: bytes, filename: str, *, check: bool = True) -> str:
        """Upload a training or validation file (checked with `chat_jsonl_ok` first unless
        `check` is False); returns the provider's file id."""
        if check:
            chat_jsonl_ok(jsonl)
        body = await self._http.call(
            "POST",
            "/files",
            what=f"take the file {filename}",
            attempts=self.attempts,
            data={"purpose": "fine-tune"},
            files={"file": (filename, jsonl, "application/jsonl")},
        )
        return self._id(body, "the uploaded file")

    async def create_job(
        self,
        *,
        model: str,
        training_file: str,
        validation_file: str | None,
        n_epochs: int,
        batch_size: int,
        learning_rate_multiplier: float | None,
        seed: int,
        suffix: str | None,
        job_key: str | None = None,
    ) -> str:
        """Create the fine-tuning job (under `job_key`, found again by `find_job`); returns
        its id."""
        hyperparameters: dict = {"n_epochs": n_epochs, "batch_size": batch_size}
        if learning_rate_multiplier is not None:
            hyperparameters["learning_rate_multiplier"] = learning_rate_multiplier
        request: dict = {
            "model": model,
            "training_file": training_file,
            "hyperparameters": hyperparameters,
            "seed": seed,
        }
        if validation_file:
            request["validation_file"] = validation_file
        if suffix:
            request["suffix"] = suffix
        if job_key:
            request["metadata"] = {KEY_FIELD: job_key}

        async def earlier_try() -> dict | None:
            if job_key:
                return await self._quietly(self.find_job(job_key))
            return await self._job_for(training_file)

        body = await self._http.call(
            "POST",
            "/fine_tuning/jobs",
            what="create the fine-tuning job",
            attempts=self.attempts,
            before_retry=earlier_try,
            json=request,
        )
        return self._id(body, "the new job")

    async def find_job(self, job_key: str) -> dict | None:
        """The job created under `job_key` (any status), or None when the provider has none;
        `HostedError` when it cannot be asked."""
        after = None
        for _ in range(JOB_PAGES):
            params: dict = {"limit": 100, f"metadata[{KEY_FIELD}]": job_key}
            if after:
                params["after"] = after
            page = await self._http.call(
                "GET", "/fine_tuning/jobs", what="list its jobs", attempts=self.attempts,
                params=params,
            )  # fmt: skip
            jobs = [j for j in page.get("data") or [] if isinstance(j, dict)]
            for job in jobs:  # a server that ignores the filter is checked here
                metadata = job.get("metadata") if isinstance(job.get("metadata"), dict) else {}
                if metadata.get(KEY_FIELD) == job_key and isinstance(job.get("id"), str):
                    return job
            if not jobs or not page.get("has_more") or not isinstance(jobs[-1].get("id"), str):
                return None
            after = jobs[-1]["id"]
        return None

    async def job(self, job_id: str) -> dict:
        return await self._http.call(
            "GET", f"/fine_tuning/jobs/{job_id}", what=f"report on the job {job_id}",
            attempts=self.attempts,
        )  # fmt: skip

    @staticmethod
    async def _quietly(lookup) -> dict | None:
        try:
            return await lookup
        except HostedError:
            return None  # not listed: the retry goes ahead

    async def _job_for(self, training_file: str) -> dict | None:
        """A live job already training on `training_file`: an earlier try went through."""
        try:
            page = await self._http.once(
                "GET", "/fine_tuning/jobs", what="list its jobs", params={"limit": 20}
            )
        except (Transient, HostedError):
            return None  # not listed: the retry goes ahead
        for job in page.get("data") or []:
            if (
                isinstance(job, dict)
                and job.get("training_file") == training_file
                and job.get("status") in ACTIVE
                and isinstance(job.get("id"), str)
            ):
                return job
        return None

    async def cancel(self, job_id: str) -> None:
        await self._http.call(
            "POST",
            f"/fine_tuning/jobs/{job_id}/cancel",
            what=f"cancel the job {job_id}",
            attempts=self.attempts,
        )

    async def follow(
        self,
        job_id: str,
        on_progress: Callable[[HostedProgress], Awaitable[None]],
        cancelled: Callable[[], Awaitable[bool]],
    ) -> HostedOutcome:
        """Poll the job until it ends. Every new event (and, where a poll brings none, a new
        status) is passed to `on_progress` in order. Returns on success; raises
        `HostedError` when the job fails or the provider cancels it, or when the service
        stays out of reach for `give_up_after_s`; raises `HostedCancelled` once it has
        cancelled the job because `cancelled()` said so."""
        progress = HostedProgress(0, 0, None, None, "")
        events = EventReader()
        status = None
        try:
            while True:
                if await cancelled():
                    raise Interrupted
                job = await self._patient("GET", f"/fine_tuning/jobs/{job_id}", job_id, cancelled)
                fresh = await events.fetch(
                    lambda params: self._patient(
                        "GET",
                        f"/fine_tuning/jobs/{job_id}/events",
                        job_id,
                        cancelled,
                        params=params,
                    )
                )
                for event in fresh:
                    progress = advance(progress, event)
                    await on_progress(progress)
                if job.get("status") != status:
                    status = job.get("status")
                    if not fresh and status in STAGES:
                        progress = replace(progress, stage=STAGES[status])
                        await on_progress(progress)
                if status == "succeeded":
                    return self._outcome(job_id, job)
                if status == "failed":
                    error = job.get("error") if isinstance(job.get("error"), dict) else {}
                    said = trim(self._http.scrub(str(error.get("message") or ""))).rstrip(".")
                    raise HostedError(
                        f"The fine-tuning job {job_id} failed: {said or 'the provider gave no reason'}."
                    )
                if status == "cancelled":
                    raise HostedError(
                        f"The fine-tuning job {job_id} was cancelled at the provider."
                    )
                await asyncio.sleep(self.poll_s)
        except Interrupted:
            raise await self._cancelled(job_id) from None

    async def _patient(
        self,
        method: str,
        path: str,
        job_id: str,
        cancelled: Callable[[], Awaitable[bool]],
        **kwargs: object,
    ) -> dict:
        return await self._http.call(
            method,
            path,
            what=f"report on the job {job_id}",
            patience_s=self.give_up_after_s,
            interrupt=cancelled,
            **kwargs,
        )

    async def _cancelled(self, job_id: str) -> HostedCancelled:
        try:
            await self.cancel(job_id)
        except HostedError as exc:
            return HostedCancelled(
                job_id,
                stopped=False,
                message=f"The run was cancelled, but the job {job_id} may still be running: {exc}",
            )
        return HostedCancelled(job_id, stopped=True, message=f"The job {job_id} was cancelled.")

    def _outcome(self, job_id: str, job: dict) -> HostedOutcome:
        model = job.get("fine_tuned_model")
        if not isinstance(model, str) or not model:
            raise HostedError(f"The fine-tuning job {job_id} succeeded but named no model.")
        tokens = job.get("trained_tokens")
        return HostedOutcome(
            model=model, trained_tokens=tokens if isinstance(tokens, int) else None
        )

    def _id(self, body: dict, what: str) -> str:
        if isinstance(body.get("id"), str) and body["id"]:
            return body["id"]
        raise HostedError(f"The fine-tuning service at {self._http.host} gave {what} no id.")
