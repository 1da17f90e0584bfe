"""A hosted job's events, as the fine-tuning API lists them, turned into progress.

OpenAI lists a job's events newest first, `after` paging towards older ones: each poll
reads pages until it meets an event already seen. A server that lists them oldest first
is read with `after` as a cursor, from the newest event seen. Either way the new events
come out in the order they happened (by `created_at`, ties in listing order).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.trainer.hosted.provider import trim

EVENTS_PAGE = 100
EVENTS_PAGES = 20  # at most this many pages a poll; the rest come with the next polls


@dataclass(frozen=True)
class HostedProgress:
    """Where the job stands: the latest step and losses reported so far, and the latest
    event's message (at most 100 characters)."""

    step: int
    total_steps: int
    loss: float | None
    eval_loss: float | None
    stage: str


class EventReader:
    """The job's events not yet reported, oldest first."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.cursor: str | None = None  # for a server that lists oldest first

    async def fetch(self, get: Callable[[dict], Awaitable[dict]]) -> list[dict]:
        found: list[tuple[float, int, dict]] = []
        after = self.cursor
        for _ in range(EVENTS_PAGES):
            params: dict = {"limit": EVENTS_PAGE}
            if after:
                params["after"] = after
            page = await get(params)
            data = [
                e for e in page.get("data") or [] if isinstance(e, dict) and _is_id(e.get("id"))
            ]
            if not data:
                break
            oldest_first = _when(data[0]) < _when(data[-1])
            fresh = [e for e in data if e["id"] not in self.seen]
            for e in fresh:
                self.seen.add(e["id"])
                # a newest-first listing pages backwards: later in it is earlier in time
                order = len(found) if oldest_first else -len(found)
                found.append((_when(e), order, e))
            if oldest_first:
                self.cursor = after = data[-1]["id"]
                if not page.get("has_more"):
                    break
            elif len(fresh) < len(data) or not page.get("has_more"):
                break
            else:
                after = data[-1]["id"]
        return [e for _, _, e in sorted(found, key=lambda item: (item[0], item[1]))]


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _when(event: dict) -> float:
    created = event.get("created_at")
    return float(created) if isinstance(created, int | float) else 0.0


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def advance(progress: HostedProgress, event: dict) -> HostedProgress:
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    step = _number(data.get("step"))
    total = _number(data.get("total_steps"))
    loss = _number(data.get("train_loss"))
    eval_loss = _number(data.get("valid_loss"))
    if eval_loss is None:
        eval_loss = _number(data.get("full_valid_loss"))
    message = " ".join(str(event.get("message") or "").split())
    return HostedProgress(
        step=int(step) if step is not None else progress.step,
        total_steps=int(total) if total is not None else progress.total_steps,
        loss=loss if loss is not None else progress.loss,
        eval_loss=eval_loss if eval_loss is not None else progress.eval_loss,
        stage=trim(message, 100) if message else progress.stage,
    )
