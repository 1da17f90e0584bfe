"""How much each person keeps: the storage cap (`SIMTUNE_MAX_STORAGE_MB_PER_USER`).

A tenant's use is the sum of its documents' sizes in the documents read model (every live
document, rejected ones too: their originals are kept). An upload that would pass the cap
is refused with 413 naming the limit, its setting and what is in use; the same bytes again
(a duplicate) store nothing new and always pass. The gateway stores a file before it
registers it, so a refused file's original is deleted here: nothing of it stays.

Uploads checked at the same moment each see the use before the others, so together they
may pass the cap by what was in flight; one after another, each sees the last.
"""

from __future__ import annotations

from sqlalchemy import text

from contracts.base import DomainError, ErrorCode, ObjectRef
from runtime.service import ServiceHost

USED = text("SELECT coalesce(sum(size), 0) FROM ingest.documents WHERE tenant = :t")
CAUGHT_UP_S = 5.0  # how long the check waits for the read model to show the latest uploads


async def used_bytes(host: ServiceHost, tenant: str) -> int:
    """What `tenant`'s documents take, once the read model shows the log as it stands (a
    read model that lags longer is read as it is: the cap is then a little late, not wrong)."""
    try:
        await host.caught_up_with_log(timeout=CAUGHT_UP_S)
    except DomainError as exc:
        if exc.code != ErrorCode.UNAVAILABLE:
            raise
    async with host.engine.connect() as conn:
        return int(await conn.scalar(USED, {"t": tenant}) or 0)


def over_limit(filename: str, size: int, used: int, limit: int) -> DomainError:
    return DomainError(
        ErrorCode.TOO_LARGE,
        f"{filename} ({size_text(size)}) was not kept: your documents would take"
        f" {size_text(used + size)}, over your storage limit of {size_text(limit)}"
        f" (SIMTUNE_MAX_STORAGE_MB_PER_USER; {size_text(used)} in use now). Delete documents"
        " you no longer need, or ask the owner to raise the limit, then upload it again",
    )


async def forget_original(host: ServiceHost, tenant: str, original: ObjectRef) -> None:
    """Delete a refused file's original, which the gateway stored under the tenant's name."""
    if original.name.startswith(f"{tenant}/"):
        await host.objects.delete(original.bucket, original.name)


def size_text(size: int) -> str:
    """Bytes as a person reads them: "900 bytes", "12.5 KB", "3.0 MB", "10.0 GB"."""
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
