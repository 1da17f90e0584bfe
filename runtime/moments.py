"""A moment a person typed as a filter (`since`, `until`): an ISO date or time, read in the
machine's time zone when it names none; anything else is a 400 naming the field."""

from __future__ import annotations

from datetime import datetime

from contracts.base import DomainError, ErrorCode


def moment(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise DomainError(
            ErrorCode.INVALID, f"{field} must be a date or time such as 2026-11-26"
        ) from exc
    return when if when.tzinfo else when.astimezone()


def between(
    column: str, since: str | None, until: str | None, where: list[str], params: dict
) -> None:
    """Narrow a read to `since <= column < until`, each bound only when the person gave it:
    the conditions go on `where`, their values in `params`."""
    if (start := moment(since, "since")) is not None:
        where.append(f"{column} >= :since")
        params["since"] = start
    if (end := moment(until, "until")) is not None:
        where.append(f"{column} < :until")
        params["until"] = end
