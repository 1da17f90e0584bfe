"""What the index is built from in the object store: the chunk list ingest stored for a
document revision (read here, by the reactor and the projection alike) and the embedding
matrix this service stores beside it."""

from __future__ import annotations

import msgspec

from contracts.base import ObjectRef
from contracts.ingest import Chunk
from runtime.objects import Objects

_chunks = msgspec.json.Decoder(list[Chunk])


async def load_chunks(objects: Objects, ref: ObjectRef, tenant: str) -> list[Chunk]:
    """The chunk list `ref` names; raises ObjectMissing, ObjectCorrupt or msgspec.DecodeError
    when it is gone or damaged."""
    return _chunks.decode(await objects.get(ref, tenant=tenant))


def embeddings_object_name(tenant: str, document_id: str, revision: int) -> str:
    return f"{tenant}/{document_id}/{revision}.embeddings.f32"
