"""Each person's answers in progress, capped (`SIMTUNE_MAX_QUEUED_ANSWERS_PER_USER`).

The local model answers one request at a time and keeps a bounded queue for everyone
(`SIMTUNE_GENERATION_QUEUE`); without a cap per person, one script asking in a loop would
fill it and every other person would wait or be turned away. An answer counts from the
moment it is asked until it is given, refused or its reader leaves (waiting in the model's
queue, searching, being written); one more than the cap is refused with 429 naming it, and
other people are not affected. A benchmark's questions are not counted: a run asks one at a
time, behind people's questions, and must not score 0 for a refusal.

The counts are this expert-service process's own (one process per install).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from contracts.base import DomainError, ErrorCode

TOO_MANY = (
    "you already have {limit} answers waiting or being written, the most one person may"
    " have at once (SIMTUNE_MAX_QUEUED_ANSWERS_PER_USER); wait for one to finish and ask"
    " again, or ask the owner to raise the limit"
)


class Waiting:
    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self._answers: Counter[str] = Counter()

    def of(self, tenant: str) -> int:
        return self._answers[tenant]

    @contextmanager
    def slot(self, tenant: str) -> Iterator[None]:
        """Hold one of `tenant`'s places while an answer is made; refused (429) when all are
        taken."""
        if self.limit and self._answers[tenant] >= self.limit:
            raise DomainError(ErrorCode.RATE_LIMITED, TOO_MANY.format(limit=self.limit))
        self._answers[tenant] += 1
        try:
            yield
        finally:
            self._answers[tenant] -= 1
            if self._answers[tenant] <= 0:
                del self._answers[tenant]
