"""Objects from the store as HTTP downloads: spooled to a temporary file, checked against
their sha256, then streamed (an original document, a dataset export)."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from typing import IO

from contracts.base import DomainError, ErrorCode
from gateway.backend import Backend
from runtime.objects import ObjectCorrupt, ObjectMissing

READ_BLOCK = 64 * 1024


async def download(
    backend: Backend, bucket: str, name: str, sha256: str, *, missing: str
) -> tuple[IO[bytes], int]:
    """The object, spooled to a temporary file and checked against its sha256."""
    sink = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115 - streamed, then closed
    try:
        await backend.objects.read_into(bucket, name, sink)
    except ObjectMissing as exc:
        sink.close()
        raise DomainError(ErrorCode.NOT_FOUND, f"{missing} is no longer stored") from exc
    except ObjectCorrupt as exc:
        sink.close()
        raise DomainError(ErrorCode.INTERNAL, "the stored file is damaged") from exc
    sink.seek(0)
    digest, size = hashlib.sha256(), 0
    while block := sink.read(READ_BLOCK):
        digest.update(block)
        size += len(block)
    if digest.hexdigest() != sha256:
        sink.close()
        raise DomainError(ErrorCode.INTERNAL, "the stored file does not match its checksum")
    return sink, size


async def stream_file(sink: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        sink.seek(0)
        while block := sink.read(READ_BLOCK):
            yield block
    finally:
        sink.close()
