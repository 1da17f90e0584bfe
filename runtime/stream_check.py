"""What an existing stream must have for the log to be the truth, and how it differs."""

from __future__ import annotations

from nats.js import api

# What the event log relies on, and the replicas SIMTUNE_STREAM_REPLICAS asks for (fewer than
# asked, a cluster loses writes sooner than its operators expect); anything else (limits,
# description) is the operators' to choose.
CHECKED = (
    "subjects",
    "storage",
    "retention",
    "max_age",
    "deny_delete",
    "deny_purge",
    "num_replicas",
)


def _value(config: api.StreamConfig, field: str):
    value = getattr(config, field, None)
    if field == "subjects":
        return sorted(value or [])
    if field == "max_age":
        return value or 0
    if field == "num_replicas":
        return value or 1  # unset is one
    if field in ("deny_delete", "deny_purge"):
        return bool(value)
    return value.value if hasattr(value, "value") else value


def stream_differences(wanted: api.StreamConfig, found: api.StreamConfig) -> list[str]:
    """Each difference in words: `deny_purge is False, expected True`."""
    out = []
    for field in CHECKED:
        want, have = _value(wanted, field), _value(found, field)
        if want != have:
            out.append(f"{field} is {have!r}, expected {want!r}")
    return out
