"""Objects from the store as HTTP downloads: spooled to a temporary file, checked against
their sha256, then streamed (an original document, a dataset's or an adapter's export).

An export can be gigabytes: the file is hashed in a worker thread (`checked_size`, through
`verified`), never on the event loop, so every other request and stream goes on meanwhile."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Protocol

from litestar.response import Stream

from contracts.base import DomainError, ErrorCode, ObjectRef
from gateway.backend import Backend
from runtime.objects import ObjectCorrupt, ObjectMissing

READ_BLOCK = 64 * 1024
HASH_BLOCK = 1024 * 1024


class Export(Protocol):
    """A service's reply saying where its export is stored and what to call the file."""

    object: ObjectRef
    filename: str


async def download(
    backend: Backend, bucket: str, name: str, sha256: str, *, missing: str
) -> tuple[IO[bytes], int]:
    """The object, spooled to a temporary file and checked against its sha256."""
    sink = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115 - streamed, then closed
    try:
        await backend.objects.read_into(bucket, name, sink, tenant=backend.tenant)
    except ObjectMissing as exc:
        sink.close()
        raise DomainError(ErrorCode.NOT_FOUND, f"{missing} is no longer stored") from exc
    except ObjectCorrupt as exc:
        sink.close()
        raise DomainError(ErrorCode.INTERNAL, "the stored file is damaged") from exc
    try:
        size = await verified(sink, sha256)
    except BaseException:
        sink.close()
        raise
    return sink, size


async def verified(file: IO[bytes], sha256: str) -> int:
    """The size of `file` once it hashes to `sha256` (read from its start in a worker thread,
    off the event loop); a mismatch is an internal error, the stored file being damaged."""
    size = await asyncio.to_thread(checked_size, file, sha256)
    if size is None:
        raise DomainError(ErrorCode.INTERNAL, "the stored file does not match its checksum")
    return size


def checked_size(file: IO[bytes], sha256: str) -> int | None:
    """The size of `file` read whole from its start, or None when it does not hash to
    `sha256`. Blocking: file reads and hashing (which releases the GIL on large blocks)."""
    file.seek(0)
    digest, size = hashlib.sha256(), 0
    while block := file.read(HASH_BLOCK):
        digest.update(block)
        size += len(block)
    return size if digest.hexdigest() == sha256 else None


async def stream_file(sink: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        sink.seek(0)
        while block := sink.read(READ_BLOCK):
            yield block
    finally:
        sink.close()


async def streamed(
    backend: Backend,
    bucket: str,
    name: str,
    sha256: str,
    *,
    missing: str,
    media_type: str,
    disposition: str,
    headers: dict[str, str] | None = None,
) -> Stream:
    """The object (checked by `download`) as a response with its length and `headers`."""
    sink, size = await download(backend, bucket, name, sha256, missing=missing)
    return Stream(
        stream_file(sink),
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(size),
            **(headers or {}),
        },
    )


async def export_download(backend: Backend, bucket: str, ready: Export, media_type: str) -> Stream:
    """An export the service has stored in `bucket`, as an attachment named as it says."""
    return await streamed(
        backend,
        bucket,
        ready.object.name,
        ready.object.sha256,
        missing="this export",
        media_type=media_type,
        disposition=f'attachment; filename="{ready.filename}"',
    )
