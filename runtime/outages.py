"""Failures that say the surroundings are down, not that the work is wrong: the database
cannot be reached, or the disk (or the event store's space) is full."""

from __future__ import annotations

import errno

from nats.js.errors import ServiceUnavailableError

from runtime.db import causes, unreachable
from runtime.eventstore import LogUnavailable

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
NATS_INSUFFICIENT_RESOURCES = 10023  # JetStream's "insufficient resources": its store is full


def _local_disk_full(error: BaseException) -> bool:
    return any(isinstance(e, OSError) and e.errno in DISK_FULL for e in causes(error))


def disk_full(error: BaseException) -> bool:
    """Whether `error` (or what caused it) is a write refused for want of space: a local
    disk (ENOSPC, over quota) or the event store (JetStream out of storage)."""
    return _local_disk_full(error) or any(
        isinstance(e, ServiceUnavailableError) and e.err_code == NATS_INSUFFICIENT_RESOURCES
        for e in causes(error)
    )


def passing(error: BaseException) -> bool:
    """An outage that passes by itself or once a person frees space, so the work should be
    tried again rather than decided as failed: the database unreachable, a local disk full.
    JetStream's "insufficient resources" is not retried: the store stays full until a person
    deletes something, so the work fails at once with a sentence saying what to free. A log
    that has lost the quorum of its servers (`LogUnavailable`) passes once they are back."""
    return (
        unreachable(error)
        or _local_disk_full(error)
        or any(isinstance(e, LogUnavailable) for e in causes(error))
    )
