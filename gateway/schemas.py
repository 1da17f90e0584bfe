"""Bodies of the gateway's HTTP API that are not service contracts as they are.

msgspec Structs, so Litestar validates them and documents them in the OpenAPI schema.
"""

from __future__ import annotations

import msgspec


class ErrorBody(msgspec.Struct, frozen=True):
    """Every error the API answers: a stable code and one readable sentence."""

    error: str
    detail: str


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


class Health(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    status: str  # "ok" | "down"
    down: list[str] = []
    error: str | None = None
    detail: str | None = None


# ---- experts ---------------------------------------------------------------------------------
# Mirrors of contracts.expert (field for field) with `default_factory` defaults, which the
# OpenAPI generator handles; converted to and from the contracts at the edge.


class StyleGuideBody(msgspec.Struct, frozen=True, kw_only=True):
    tone: str | None = None
    vocabulary: str | None = None
    sentence_length: str | None = None
    do: list[str] = msgspec.field(default_factory=list)
    dont: list[str] = msgspec.field(default_factory=list)


class NewExpert(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str = ""
    domain: str = ""
    goals: list[str] = msgspec.field(default_factory=list)
    influences: list[str] = msgspec.field(default_factory=list)
    style_guide: StyleGuideBody = msgspec.field(default_factory=StyleGuideBody)
    base_model: str | None = None


class ExpertChanges(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Only the fields sent change."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    domain: str | msgspec.UnsetType = msgspec.UNSET
    goals: list[str] | msgspec.UnsetType = msgspec.UNSET
    influences: list[str] | msgspec.UnsetType = msgspec.UNSET
    style_guide: StyleGuideBody | msgspec.UnsetType = msgspec.UNSET
    base_model: str | None | msgspec.UnsetType = msgspec.UNSET


class ExpertOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    domain: str
    goals: list[str]
    influences: list[str]
    style_guide: StyleGuideBody
    base_model: str | None
    version: int
    created_at: str
    updated_at: str
