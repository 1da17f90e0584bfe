"""A stand-in for the OpenAI fine-tuning API, served on a free port in this process.

It keeps files, jobs and events in memory. A job moves one stage on each `GET` of it
(validating_files → queued → running, one metrics event a step for `steps` steps →
succeeded, naming `ft:<model>:simtune:<suffix>:<n>` and `trained_tokens` = the training
file's bytes / 4), so a client polling it sees the whole life of a job in a few polls.
Events are listed newest first with `after` paging towards older ones, as OpenAI does.

Knobs (constructor arguments, and attributes a test may change at any time):
- `require_key`: the bearer key it takes (401 otherwise); None takes any request.
- `steps`: training steps a job reports.
- `fail_job`: the next jobs fail at validation with "Training file has invalid format".
- `drop_connections`: the next N requests get their connection closed before any answer
  (or, with `drop_status` set, that status, e.g. 503).
- `drop_responses`: the next N requests are carried out, then their answers are lost
  (the connection closes): a client cannot tell whether they went through.
- `pause`: while True, a job's GET does not move it on (drive it with `advance(job_id)`).
- `events_order`: "newest_first" (OpenAI) or "oldest_first" (`after` pages towards newer).
- `down`: while True, every request gets `drop_status` (503 when unset): an outage.
- `lose_created`: the answers of the next N job creations are lost after the job is made.
- `on_create`: called with each job as it is created, before it is answered (a test may
  kill the client's process there: a crash between the creation and its record).
- `billed_tokens_per_byte`: `trained_tokens` = the training file's bytes times this
  (default 1/4), so a job can bill more than the client estimated.

Jobs keep the `metadata` they were created with; the job list filters on
`metadata[<key>]=<value>` and pages with `after`, as OpenAI's does.

Records: `uploads` (file id → `Upload`), `created` (each job-create body as received),
`cancels` (job ids POSTed to cancel), `requests` ((method, path) of every request),
`jobs` and `events` (job id → its events, oldest first).

A training file is checked as OpenAI checks one: a `.jsonl` name at upload, and at
validation each line a JSON object with a non-empty `messages` list of role/content
messages; a bad file fails the job naming the line.

    async with fake_finetune_api(steps=3) as api:
        client = HostedFinetune(api.url, "sk-test", poll_s=0.01)
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Literal
from urllib.parse import parse_qsl

from tests.support.scripted_llm import read_body, respond, serving

KEY = "sk-test"
ROLES = ("system", "user", "assistant", "tool", "function")


@dataclass
class Upload:
    id: str
    filename: str
    purpose: str
    content: bytes


class FakeFinetuneAPI:
    def __init__(
        self,
        *,
        require_key: str | None = KEY,
        steps: int = 5,
        fail_job: bool = False,
        drop_connections: int = 0,
        drop_status: int | None = None,
        drop_responses: int = 0,
        pause: bool = False,
        events_order: Literal["newest_first", "oldest_first"] = "newest_first",
        down: bool = False,
        lose_created: int = 0,
        on_create: Callable[[dict], None] | None = None,
        billed_tokens_per_byte: float = 0.25,
    ) -> None:
        self.require_key = require_key
        self.keys_seen: set[str] = set()  # every bearer key a request carried
        self.steps = steps
        self.fail_job = fail_job
        self.drop_connections = drop_connections
        self.drop_status = drop_status
        self.drop_responses = drop_responses
        self.pause = pause
        self.events_order = events_order
        self.down = down
        self.lose_created = lose_created
        self.on_create = on_create
        self.billed_tokens_per_byte = billed_tokens_per_byte
        self.refused_while_down = 0  # requests answered with an error during an outage
        self.url = ""  # set while served: the base URL a client takes (…/v1)
        self.uploads: dict[str, Upload] = {}
        self.created: list[dict] = []
        self.cancels: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.jobs: dict[str, dict] = {}
        self.events: dict[str, list[dict]] = {}
        self._numbers = itertools.count(1)

    # ---- driving jobs from a test --------------------------------------------------------

    def job(self, job_id: str | None = None) -> dict:
        """A job by id, or the latest one created."""
        return self.jobs[job_id] if job_id else list(self.jobs.values())[-1]

    def advance(self, job_id: str) -> None:
        """Move a job on by one stage or one step."""
        job = self.jobs[job_id]
        status = job["status"]
        if status == "validating_files":
            problem = "Training file has invalid format" if self.fail_job else None
            problem = problem or self._file_problem(job["training_file"], "training")
            if job["validation_file"]:
                problem = problem or self._file_problem(job["validation_file"], "validation")
            if problem:
                self._finish(job, "failed", problem, level="error")
                job["error"] = {
                    "code": "invalid_training_file",
                    "message": problem,
                    "param": "training_file",
                }
            else:
                job["status"] = "queued"
                self._event(job_id, "Files validated, moving job to queued state")
        elif status == "queued":
            job["status"] = "running"
            self._event(job_id, "Fine-tuning job started")
        elif status == "running" and job["_step"] < self.steps:
            job["_step"] = step = job["_step"] + 1
            train, valid = round(2.0 / (1 + step * 0.5), 4), round(2.2 / (1 + step * 0.4), 4)
            self._event(
                job_id,
                f"Step {step}/{self.steps}: training loss={train}, validation loss={valid}",
                kind="metrics",
                data={
                    "step": step,
                    "total_steps": self.steps,
                    "train_loss": train,
                    "valid_loss": valid,
                    "train_mean_token_accuracy": round(0.5 + step / (2 * self.steps), 3),
                },
            )
        elif status == "running":
            suffix = job["user_provided_suffix"] or ""
            job["fine_tuned_model"] = f"ft:{job['model']}:simtune:{suffix}:{job['_number']}"
            size = len(self.uploads[job["training_file"]].content)
            job["trained_tokens"] = int(size * self.billed_tokens_per_byte)
            self._event(job_id, f"New fine-tuned model created: {job['fine_tuned_model']}")
            self._finish(job, "succeeded", "The job has successfully completed")

    def cancel_job(self, job_id: str) -> None:
        """The provider cancels a job on its own."""
        self._finish(self.jobs[job_id], "cancelled", "Fine-tuning job cancelled")

    def _finish(self, job: dict, status: str, message: str, *, level: str = "info") -> None:
        job["status"] = status
        job["finished_at"] = int(time.time())
        self._event(job["id"], message, level=level)

    def _event(
        self,
        job_id: str,
        message: str,
        *,
        kind: str = "message",
        data: dict | None = None,
        level: str = "info",
    ) -> None:
        self.events.setdefault(job_id, []).append(
            {
                "object": "fine_tuning.job.event",
                "id": f"ftevent-{secrets.token_hex(12)}",
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "data": data or {},
                "type": kind,
            }
        )

    def _file_problem(self, file_id: str, which: str) -> str | None:
        lines = self.uploads[file_id].content.decode("utf-8", "replace").splitlines()
        if not any(line.strip() for line in lines):
            return f"The {which} file has no examples."
        for n, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
            except ValueError:
                return f"Invalid file format: line {n} of the {which} file is not valid JSON."
            messages = row.get("messages") if isinstance(row, dict) else None
            if not isinstance(messages, list) or not messages:
                return f"Invalid file format: example {n} in the {which} file has no messages."
            for m in messages:
                if not isinstance(m, dict) or m.get("role") not in ROLES or "content" not in m:
                    return f"Invalid file format: example {n} in the {which} file has a malformed message."
        return None

    # ---- HTTP ----------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"].removeprefix("/v1")
        self.requests.append((method, path))
        body = await read_body(receive)
        if self.down:
            self.refused_while_down += 1
            error = {"error": {"message": "The service is unavailable", "type": "server_error"}}
            return await respond(send, self.drop_status or 503, json.dumps(error).encode())
        if self.drop_connections > 0:
            self.drop_connections -= 1
            if self.drop_status:
                error = {"error": {"message": "The server is overloaded", "type": "server_error"}}
                return await respond(send, self.drop_status, json.dumps(error).encode())
            return await _hang_up(send)
        headers = dict(scope["headers"])
        if b"authorization" in headers:
            self.keys_seen.add(headers[b"authorization"].decode().removeprefix("Bearer "))
        if (
            self.require_key
            and headers.get(b"authorization") != f"Bearer {self.require_key}".encode()
        ):
            shown = headers.get(b"authorization", b"").decode()[7:]
            message = f"Incorrect API key provided: {shown[:3]}***{shown[-4:]}."
            return await _error(send, 401, message, "invalid_api_key")
        query = dict(parse_qsl(scope["query_string"].decode()))
        created = len(self.jobs)
        status, answer = self._route(method, path, body, headers.get(b"content-type", b""), query)
        if len(self.jobs) > created and self.lose_created > 0:
            self.lose_created -= 1
            return await _hang_up(send)
        if self.drop_responses > 0:
            self.drop_responses -= 1
            return await _hang_up(send)
        await respond(send, status, json.dumps(answer).encode())

    def _route(self, method: str, path: str, body: bytes, content_type: bytes, query: dict):
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["files"]:
            return self._upload(body, content_type)
        if parts[:2] == ["fine_tuning", "jobs"]:
            if method == "POST" and len(parts) == 2:
                return self._create(json.loads(body or b"{}"))
            if method == "GET" and len(parts) == 2:
                return 200, self._list_jobs(query)
            job = self.jobs.get(parts[2]) if len(parts) > 2 else None
            if job is None:
                return _missing(f"No such fine-tuning job: {parts[2] if len(parts) > 2 else ''}")
            if method == "GET" and len(parts) == 3:
                if not self.pause and job["status"] not in ("succeeded", "failed", "cancelled"):
                    self.advance(job["id"])
                return 200, self._public(job)
            if method == "GET" and parts[3:] == ["events"]:
                return 200, self._list_events(job["id"], query)
            if method == "POST" and parts[3:] == ["cancel"]:
                self.cancels.append(job["id"])
                if job["status"] in ("succeeded", "failed"):
                    return _refuse(f"Job has already completed: {job['id']}", "invalid_request")
                if job["status"] != "cancelled":
                    self.cancel_job(job["id"])
                return 200, self._public(job)
        return _missing(f"Unknown request URL: {method} {path}")

    def _upload(self, body: bytes, content_type: bytes):
        form = _multipart(body, content_type)
        purpose, file = form.get("purpose"), form.get("file")
        if purpose is None or file is None:
            return _refuse("Missing required parameter: 'file' and 'purpose'.", "missing")
        filename, content = file
        if purpose[1] != b"fine-tune":
            return _refuse(f"Invalid purpose: {purpose[1].decode()!r}.", "invalid_purpose")
        if not (filename or "").endswith(".jsonl"):
            return _refuse(
                "Invalid file format for Fine-Tuning API. Must be .jsonl", "invalid_file"
            )
        upload = Upload(f"file-{secrets.token_hex(12)}", filename, "fine-tune", content)
        self.uploads[upload.id] = upload
        return 200, {
            "id": upload.id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": "fine-tune",
            "status": "processed",
        }

    def _create(self, request: dict):
        self.created.append(request)
        if not request.get("model"):
            return _refuse("Missing required parameter: 'model'.", "missing_required_parameter")
        for field in ("training_file", "validation_file"):
            if request.get(field) is not None and request[field] not in self.uploads:
                return _refuse(f"invalid {field}: {request[field]}", "invalid_file")
        if request.get("training_file") is None:
            return _refuse(
                "Missing required parameter: 'training_file'.", "missing_required_parameter"
            )
        if len(request.get("suffix") or "") > 64:
            return _refuse("suffix must be at most 64 characters", "invalid_value")
        number = next(self._numbers)
        job = {
            "object": "fine_tuning.job",
            "id": f"ftjob-{secrets.token_hex(12)}",
            "model": request["model"],
            "created_at": int(time.time()),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": "org-simtune",
            "result_files": [],
            "status": "validating_files",
            "validation_file": request.get("validation_file"),
            "training_file": request["training_file"],
            "hyperparameters": request.get("hyperparameters") or {},
            "trained_tokens": None,
            "error": None,
            "seed": request.get("seed"),
            "user_provided_suffix": request.get("suffix"),
            "metadata": request.get("metadata"),
            "_step": 0,
            "_number": number,
        }
        self.jobs[job["id"]] = job
        self._event(job["id"], f"Created fine-tuning job: {job['id']}")
        self._event(job["id"], f"Validating training file: {job['training_file']}")
        if self.on_create is not None:
            self.on_create(job)
        return 200, self._public(job)

    def _list_jobs(self, query: dict) -> dict:
        jobs = [self._public(j) for j in reversed(self.jobs.values())]  # newest first
        wanted = {
            k[9:-1]: v for k, v in query.items() if k.startswith("metadata[") and k[-1] == "]"
        }
        jobs = [
            j for j in jobs if all((j["metadata"] or {}).get(k) == v for k, v in wanted.items())
        ]
        return _page(jobs, query)

    def _list_events(self, job_id: str, query: dict) -> dict:
        events = list(self.events.get(job_id, []))
        if self.events_order == "newest_first":
            events.reverse()
        return _page(events, query)

    @staticmethod
    def _public(job: dict) -> dict:
        return {k: v for k, v in job.items() if not k.startswith("_")}


def _page(items: list[dict], query: dict) -> dict:
    """One page of a list the way the provider pages them: the items after the `after` id
    (none when it is unknown), at most `limit` (20 unless asked, 100 at the most)."""
    after = query.get("after")
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    limit = min(int(query.get("limit", 20)), 100)
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}


def _missing(message: str):
    return 404, {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def _refuse(message: str, code: str):
    return 400, {"error": {"message": message, "type": "invalid_request_error", "code": code}}


async def _error(send, status: int, message: str, code: str) -> None:
    error = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    await respond(send, status, json.dumps(error).encode())


async def _hang_up(send) -> None:
    """Start an answer and never finish it: uvicorn closes the connection, so the client
    sees it drop mid-answer."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )


def _multipart(body: bytes, content_type: bytes) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body's fields: name → (filename, content)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type + b"\r\n\r\n" + body
    )
    fields: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


@asynccontextmanager
async def fake_finetune_api(**knobs) -> AsyncIterator[FakeFinetuneAPI]:
    """The fake served on a free port; its `url` is the base URL a client takes (…/v1)."""
    api = FakeFinetuneAPI(**knobs)
    async with serving(api) as url:
        api.url = f"{url}/v1"
        yield api
