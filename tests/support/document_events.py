"""A document's chunked and indexed events with every field a test does not care about filled
in: document d1 of expert e1, revision 1, a.pdf cut into 5 passages. A test says only what it
is about, as keyword changes."""

from __future__ import annotations

import msgspec

from contracts.base import ObjectRef
from contracts.ingest import DocumentChunked
from contracts.knowledge import DocumentIndexed

DERIVED = ObjectRef(bucket="derived", name="x", sha256="s", size=1)
DOCUMENT = {"document_id": "d1", "expert_id": "e1", "revision": 1, "filename": "a.pdf"}


def chunked(chunks: ObjectRef = DERIVED, **changes) -> DocumentChunked:
    """The document cut into `chunks`, 400 characters with 60 of overlap."""
    event = DocumentChunked(
        **DOCUMENT, pages=3, chunk_count=5, chunks=chunks, chunk_size=400, chunk_overlap=60
    )
    return msgspec.structs.replace(event, **changes)


def indexed(chunks: ObjectRef = DERIVED, **changes) -> DocumentIndexed:
    """The document's `chunks` embedded (by model m, 4 dimensions) into the same object."""
    event = DocumentIndexed(
        **DOCUMENT, chunk_count=5, chunks=chunks, embeddings=chunks, model="m", dimensions=4
    )
    return msgspec.structs.replace(event, **changes)
