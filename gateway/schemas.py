"""Bodies of the gateway's HTTP API that are not service contracts as they are.

msgspec Structs, so Litestar validates them and documents them in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from contracts.base import ComponentHealth
from contracts.dataset import DEFAULT_MAX_EXAMPLES, MAX_EXAMPLES, Sources


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
    down: list[str] = []  # services not answering, projections stuck, reactors failed
    error: str | None = None
    detail: str | None = None
    components: list[ComponentHealth] = []  # every projection and reactor, as reported


class ProjectionsOverview(msgspec.Struct, frozen=True, kw_only=True):
    """Every projection of every service that answered: checkpoint, lag and state."""

    projections: list[ComponentHealth]
    not_answering: list[str] = []  # services that did not report


# ---- experts ---------------------------------------------------------------------------------
# The expert bodies are the contracts themselves: a profile to create, a patch to change one
# (only the fields sent change), and the projected view.


# ---- datasets --------------------------------------------------------------------------------


class BuildBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to build a dataset from (the shared contract's body, plus manual JSONL)."""

    sources: Sources
    max_examples: Annotated[int, Meta(ge=1, le=MAX_EXAMPLES)] = DEFAULT_MAX_EXAMPLES
    seed: Annotated[int, Meta(ge=0, le=2**31 - 1)] = 0
    manual_jsonl: str | None = None  # one {"question", "answer"} object a line


class DatasetAccepted(msgspec.Struct, frozen=True, kw_only=True):
    dataset_id: str
    version: int
    status: str


class ExampleChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    question: str | None = None
    answer: str | None = None
    tags: list[str] | None = None
