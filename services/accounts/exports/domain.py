"""A data job's life, decided purely: an export or an import is requested once, progresses,
then ends once (done or failed); an export's archive may later expire. A redelivered job
decides nothing twice: a job that has ended takes no progress and no second ending."""

from __future__ import annotations

from dataclasses import dataclass, replace

from contracts.accounts import (
    ExportExpired,
    ExportFailed,
    ExportFinished,
    ExportProgressed,
    ExportRequested,
    ImportFailed,
    ImportFinished,
    ImportProgressed,
    ImportRequested,
)
from contracts.base import DomainError, ErrorCode

ENDED = ("done", "failed", "expired")


@dataclass(frozen=True)
class Job:
    status: str = "new"  # new | running | done | failed | expired
    user_id: str = ""
    archive_name: str = ""


INITIAL = Job()


def evolve(state: Job, event: object) -> Job:
    match event:
        case ExportRequested() | ImportRequested():
            return replace(state, status="running", user_id=event.user_id)
        case ExportFinished():
            return replace(state, status="done", archive_name=event.archive.name)
        case ImportFinished():
            return replace(state, status="done")
        case ExportFailed() | ImportFailed():
            return replace(state, status="failed")
        case ExportExpired():
            return replace(state, status="expired")
    return state


def decide_request(state: Job, event: ExportRequested | ImportRequested):
    if state.status != "new":
        raise DomainError(ErrorCode.CONFLICT, "this job was started already")
    return event


def decide_progress(state: Job, event: ExportProgressed | ImportProgressed):
    return event if state.status == "running" else None


def decide_end(state: Job, event):
    """The job's last word, once: a job that already ended decides nothing."""
    return event if state.status == "running" else None


def decide_expire(state: Job, event: ExportExpired):
    return event if state.status == "done" else None


def running(state: Job) -> bool:
    return state.status == "running"
