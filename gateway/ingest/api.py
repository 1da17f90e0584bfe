"""Documents of an expert: upload (multipart, streamed), list, read, delete, original file."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from litestar import Request, Response, delete, get, post
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import Parameter
from litestar.response import Stream

from contracts.expert import GetExpert
from contracts.ingest import DOCUMENTS_BUCKET, MAX_PAGE_SIZE, PAGE_SIZE
from gateway.backend import Backend
from gateway.http.downloads import streamed
from gateway.http.errors import error_responses
from gateway.http.openapi import ANY_FILE, answering
from gateway.ingest.documents import delete_document as delete_one
from gateway.ingest.documents import documents_page
from gateway.ingest.documents import get_document as get_one
from gateway.ingest.schemas import DocumentOut, UploadAccepted
from gateway.ingest.uploads import receive_uploads


@dataclass
class UploadOperation(Operation):
    """Documents the multipart body, which the handler streams itself (no `data` param)."""

    def __post_init__(self) -> None:
        files = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        form = Schema(
            type=OpenAPIType.OBJECT,
            properties={"file": Schema(type=OpenAPIType.ARRAY, items=files)},
            required=["file"],
        )
        self.request_body = RequestBody(
            description="one or more parts named `file` (PDF, .txt, .md)",
            required=True,
            content={"multipart/form-data": OpenAPIMediaType(schema=form)},
        )


@post(
    "/api/experts/{expert_id:str}/documents",
    status_code=202,
    summary="Upload documents (PDF, .txt, .md) to an expert",
    description="The type is judged by content, not name. If any file is empty, of another type"
    " or over the size limit, the answer names it and no file is kept.",
    request_max_body_size=None,  # the upload enforces its own limits while streaming
    responses=error_responses(400, 404, 413, 415),
    operation_class=UploadOperation,
)
async def upload(request: Request, expert_id: str, backend: Backend) -> UploadAccepted:
    return UploadAccepted(documents=await receive_uploads(request, backend, expert_id))


@get(
    "/api/experts/{expert_id:str}/documents",
    summary="An expert's documents with their status",
    description="Oldest first, `limit` at a time. When more follow, the `Link` header"
    ' (`rel="next"`) and `X-Next-Cursor` say where: pass the cursor back as `after`.',
    responses=error_responses(400, 404),
)
async def list_documents(
    request: Request,
    expert_id: str,
    backend: Backend,
    limit: int = Parameter(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="page size"),
    after: str | None = Parameter(
        default=None, max_length=200, description="the `X-Next-Cursor` of the previous page"
    ),
) -> Response[list[DocumentOut]]:
    await backend.ask(GetExpert(expert_id=expert_id))
    docs, cursor = await documents_page(backend, expert_id, limit=limit, after=after)
    headers = {}
    if cursor is not None:
        query = urlencode({"limit": limit, "after": cursor})
        headers = {"Link": f'<{request.url.path}?{query}>; rel="next"', "X-Next-Cursor": cursor}
    return Response(docs, headers=headers)


@get(
    "/api/documents/{document_id:str}",
    summary="One document",
    responses=error_responses(404),
)
async def get_document(document_id: str, backend: Backend) -> DocumentOut:
    return await get_one(backend, document_id)


@delete(
    "/api/documents/{document_id:str}",
    status_code=204,
    summary="Delete a document (its passages leave the index)",
    responses=error_responses(404),
)
async def delete_document(document_id: str, backend: Backend) -> None:
    await delete_one(backend, document_id)


@get(
    "/api/documents/{document_id:str}/file",
    summary="The original file, with its media type (PDF viewers open `#page=N`)",
    responses=error_responses(404),
    operation_class=answering(ANY_FILE),
)
async def document_file(document_id: str, backend: Backend) -> Stream:
    doc = await get_one(backend, document_id)
    name = f"{backend.tenant}/{doc.expert_id}/{doc.sha256}"
    media_type = doc.media_type or "application/octet-stream"  # text/* gets "; charset=utf-8"
    return await streamed(
        backend,
        DOCUMENTS_BUCKET,
        name,
        doc.sha256,
        missing="the original file of this document",
        media_type=media_type,
        disposition=f"inline; filename*=UTF-8''{quote(doc.filename)}",
        headers={"X-Content-Type-Options": "nosniff"},
    )


ROUTES = [upload, list_documents, get_document, delete_document, document_file]
