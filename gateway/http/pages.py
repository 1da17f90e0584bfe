"""What the console's pages share: is this request from htmx (answer a fragment)?, the body
of a plain HTML form and a form's step that may be refused, and the words every context's
views use (a time, a textarea's lines, a record's status and labels, a run's times).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import Body

from contracts.base import DomainError

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)  # a form posted without JavaScript too
ENDED = ("succeeded", "failed", "cancelled")  # a run in one of these has stopped for good


Result = TypeVar("Result")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def attempt(step: Callable[[], Awaitable[Result]]) -> tuple[Result | None, str | None]:
    """A form's `step` (reading the form, then the command it makes): its result and no
    error, or no result and the sentence of the 400 it was refused with, for the page to show
    beside the form typed as it was. Any other error goes on to the error handler."""
    try:
        return await step(), None
    except DomainError as exc:
        if exc.status != 400:
            raise
        return None, exc.detail


def when(iso: str) -> str:
    """'2025-03-01 14:05' from an ISO timestamp (as stored, in UTC)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def lines(text: str) -> list[str]:
    """The non-empty lines of a textarea, trimmed (one list item per line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def worded(field: str, words: Mapping[str, str]) -> property:
    """A property of a shown record: its view's `field` in the console's `words` (as stored
    where `words` has none), so each label is one line, not a method each."""

    def label(self: Any) -> str:
        value = getattr(self.view, field)
        return words.get(value, value)

    return property(label)


def timed(field: str) -> property:
    """A property of a shown record: its view's ISO timestamp `field` as `when` shows it."""
    return property(lambda self: when(getattr(self.view, field)))


@dataclass(frozen=True)
class Shown:
    """A record (a run, a dataset version) as the console shows it: its id, and its status
    in the words of the subclass's `STATUS`."""

    view: Any
    STATUS: ClassVar[dict[str, str]] = {}

    @property
    def id(self) -> str:
        return self.view.id

    @property
    def status_label(self) -> str:
        return self.STATUS.get(self.view.status, self.view.status)


@dataclass(frozen=True)
class RunShown(Shown):
    """A run (a fine-tune, a benchmark): also whether it is still going, and when it was
    queued and finished. Every run goes through the same states, so they share their words
    (a kind of run may name its own `running`)."""

    STATUS: ClassVar[dict[str, str]] = {
        "queued": "Waiting",
        "running": "Running",
        "succeeded": "Done",
        "failed": "Failed",
        "cancelled": "Cancelled",
    }

    @property
    def active(self) -> bool:
        return self.view.status not in ENDED

    @property
    def queued(self) -> str:
        return when(self.view.queued_at)

    @property
    def finished(self) -> str:
        return when(self.view.finished_at) if self.view.finished_at else "–"
