"""Receiving documents: size limit, content-judged type, storage, registration.

All parts are checked before anything is stored: if one file is bad, the answer names it
and no file of the request is kept. Good files then go to the `documents` bucket under
`<tenant>/<expert_id>/<sha256>` and are registered with the ingest service.
"""

from __future__ import annotations

from litestar import Request

from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert
from contracts.ingest import DOCUMENTS_BUCKET, RegisterUpload
from gateway.backend import Backend
from gateway.http.filetypes import EmptyFile, UnsupportedType, detect_media_type
from gateway.http.multipart_stream import MAX_FILES, Part, boundary_of, human_size, read_parts
from gateway.ingest.documents import merged
from gateway.ingest.schemas import UploadedDocument

OVERHEAD = 64 * 1024  # multipart headers and boundaries, generously
REGISTER_TIMEOUT_S = 30.0


async def receive_uploads(
    request: Request, backend: Backend, expert_id: str
) -> list[UploadedDocument]:
    await backend.ask(GetExpert(expert_id=expert_id))  # 404 before reading any of the body
    limit = backend.settings.max_upload_bytes
    total_limit = limit * MAX_FILES + OVERHEAD
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > total_limit:
        raise DomainError(
            ErrorCode.TOO_LARGE,
            f"this upload is {human_size(int(length))}; each file may be at most"
            f" {human_size(limit)} and at most {MAX_FILES} files go in one upload",
        )
    boundary = boundary_of(request.headers.get("content-type"))
    parts = await read_parts(request.stream(), boundary, limit=limit, total_limit=total_limit)
    try:
        media_types = [check(part) for part in parts]
        return [
            await store(backend, expert_id, part, media_type)
            for part, media_type in zip(parts, media_types, strict=True)
        ]
    finally:
        for part in parts:
            part.close()


def check(part: Part) -> str:
    """The part's media type, judged by its content; DomainError (400/415) naming the file."""
    if part.size == 0:
        raise DomainError(
            ErrorCode.INVALID, f"{part.filename} is empty: there is nothing in it to learn from"
        )
    try:
        return detect_media_type(bytes(part.head), part.filename)
    except EmptyFile as exc:
        raise DomainError(ErrorCode.INVALID, f"{part.filename}: {exc.reason}") from exc
    except UnsupportedType as exc:
        raise DomainError(ErrorCode.UNSUPPORTED_TYPE, f"{part.filename}: {exc.reason}") from exc


async def store(backend: Backend, expert_id: str, part: Part, media_type: str) -> UploadedDocument:
    part.file.seek(0)
    name = f"{backend.tenant}/{expert_id}/{part.sha256}"
    ref = await backend.objects.put(
        DOCUMENTS_BUCKET, name, part.file, tenant=backend.tenant, known=(part.sha256, part.size)
    )
    cmd = RegisterUpload(
        tenant=backend.tenant,
        expert_id=expert_id,
        filename=part.filename,
        media_type=media_type,
        object=ref,
    )
    registered = await backend.send(cmd, timeout=REGISTER_TIMEOUT_S)
    doc = (await merged(backend, [registered.document]))[0]
    return UploadedDocument(
        id=doc.id, filename=doc.filename, status=doc.status, duplicate=registered.duplicate
    )
