"""What the console's pages share: is this request from htmx (answer a fragment)?, the body
of a plain HTML form, and the words every context's views use (a time, a textarea's lines,
a record's status and a run's times).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import Body

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)  # a form posted without JavaScript too
ENDED = ("succeeded", "failed", "cancelled")  # a run in one of these has stopped for good


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def when(iso: str) -> str:
    """'2025-03-01 14:05' from an ISO timestamp (as stored, in UTC)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def lines(text: str) -> list[str]:
    """The non-empty lines of a textarea, trimmed (one list item per line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


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
    queued and finished."""

    @property
    def active(self) -> bool:
        return self.view.status not in ENDED

    @property
    def queued(self) -> str:
        return when(self.view.queued_at)

    @property
    def finished(self) -> str:
        return when(self.view.finished_at) if self.view.finished_at else "–"
