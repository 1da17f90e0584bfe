"""Receiving an adapter archive to import (the API and the console alike).

One `.tar.gz` in the multipart `file` part, beside an `expert_id` field (the console names
the expert in its path instead). What can be refused without the registry is refused before
anything is stored: a body whose Content-Length is over `SIMTUNE_MAX_ADAPTER_MB` (413, before
reading it), a file over it while streaming (413), an empty file or one that is not gzip data
(400). The archive then goes to the `adapter-imports` bucket under a name of this upload's own,
`<tenant>/<sha256>-<random>` (the registry deletes it once read: two uploads of one archive
at once must not share it), and the registry unpacks, checks and registers it; what it
refuses it says in one sentence.
"""

from __future__ import annotations

import uuid

from litestar import Request

from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert
from contracts.registry import IMPORTS, AdapterImported, ImportAdapter
from gateway.backend import Backend
from gateway.http.multipart_stream import Part, boundary_of, human_size, read_parts
from gateway.registry.adapters import ARCHIVE_TIMEOUT_S

OVERHEAD = 64 * 1024  # multipart headers, boundaries and the expert_id field, generously
GZIP_MAGIC = b"\x1f\x8b"


async def receive_adapter(
    request: Request, backend: Backend, *, by: str, expert_id: str | None = None
) -> tuple[str, AdapterImported]:
    """The expert it was imported into and the registry's reply; DomainError (400/404/409/413)
    for what cannot be imported."""
    limit = backend.settings.max_adapter_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + OVERHEAD:
        raise too_large(int(length), limit)
    if expert_id is not None:
        await backend.ask(GetExpert(expert_id=expert_id))  # 404 before reading any of the body
    boundary = boundary_of(request.headers.get("content-type"))
    fields: dict[str, str] = {}
    parts = await read_parts(
        request.stream(), boundary, limit=limit, total_limit=limit + OVERHEAD, fields=fields
    )
    try:
        archive = only_archive(parts)
        expert_id = expert_id or fields.get("expert_id", "").strip()
        if not expert_id:
            raise DomainError(
                ErrorCode.INVALID, "say which expert the adapter is for: an expert_id field"
            )
        await backend.ask(GetExpert(expert_id=expert_id))
        archive.file.seek(0)
        name = f"{backend.tenant}/{archive.sha256}-{uuid.uuid4().hex}"
        ref = await backend.objects.put(
            IMPORTS,
            name,
            archive.file,
            tenant=backend.tenant,
            known=(archive.sha256, archive.size),
        )
    finally:
        for part in parts:
            part.close()
    cmd = ImportAdapter(
        tenant=backend.tenant, expert_id=expert_id, archive=ref, filename=archive.filename, by=by
    )
    return expert_id, await backend.send(cmd, timeout=ARCHIVE_TIMEOUT_S)


def only_archive(parts: list[Part]) -> Part:
    """The one file sent, if it can be a `.tar.gz`."""
    if len(parts) > 1:
        raise DomainError(ErrorCode.INVALID, "send one adapter archive at a time")
    part = parts[0]
    if part.size == 0:
        raise DomainError(ErrorCode.INVALID, f"{part.filename} is empty: there is no adapter in it")
    if not part.head.startswith(GZIP_MAGIC):
        raise DomainError(
            ErrorCode.INVALID,
            f"{part.filename} is not a .tar.gz archive: an adapter is imported as the"
            " gzip-compressed tar file that Export makes",
        )
    return part


def too_large(size: int, limit: int) -> DomainError:
    return DomainError(
        ErrorCode.TOO_LARGE,
        f"this archive is {human_size(size)}; an adapter archive may be at most"
        f" {human_size(limit)} (SIMTUNE_MAX_ADAPTER_MB)",
    )
