"""The documents of the HTTP API as a person sees them: ingest's and knowledge's status merged
(`status.py`), and what an upload answers. msgspec Structs, so Litestar validates and
documents them."""

from __future__ import annotations

import msgspec


class DocumentOut(msgspec.Struct, frozen=True, kw_only=True):
    """A document as a person sees it (ingest and knowledge status merged)."""

    id: str
    expert_id: str
    filename: str
    status: str  # uploaded | parsing | embedding | ready | rejected
    pages: int
    chunks: int
    reason: str | None
    sha256: str
    size: int
    media_type: str
    revision: int
    created_at: str
    updated_at: str


class UploadedDocument(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    filename: str
    status: str
    duplicate: bool = False  # the same bytes were already a document of this expert


class UploadAccepted(msgspec.Struct, frozen=True, kw_only=True):
    documents: list[UploadedDocument]
