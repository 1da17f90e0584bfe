"""NATS Object Store helpers: large payloads (documents, chunk lists, embeddings, adapters).

Events never carry large payloads; they carry an ObjectRef (bucket, name, sha256, size).
`get` verifies the sha256 the event recorded, so a swapped or damaged object is noticed.
"""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from nats.js import JetStreamContext, api
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError

from contracts.ingest import ObjectRef


class ObjectMissing(Exception):
    """The object is not (or no longer) in its bucket."""


class ObjectCorrupt(Exception):
    """The object's bytes do not match the sha256 recorded for it."""


class Objects:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self._buckets: dict[str, object] = {}

    async def bucket(self, name: str):
        if name not in self._buckets:
            try:
                self._buckets[name] = await self._js.object_store(name)
            except (BucketNotFoundError, NotFoundError):
                config = api.ObjectStoreConfig(bucket=name, storage=api.StorageType.FILE)
                self._buckets[name] = await self._js.create_object_store(name, config=config)
        return self._buckets[name]

    async def put(
        self,
        bucket: str,
        name: str,
        data: bytes | BinaryIO,
        *,
        known: tuple[str, int] | None = None,
    ) -> ObjectRef:
        """Store bytes (or a readable binary file) under `name`; returns its reference.

        `known` = (sha256, size) when the caller already hashed the bytes while receiving them.
        """
        if isinstance(data, bytes | bytearray):
            sha, size = known or (hashlib.sha256(data).hexdigest(), len(data))
            reader: BinaryIO = io.BytesIO(data)
        else:
            sha, size = known or _hash_file(data)
            reader = data
        store = await self.bucket(bucket)
        await store.put(name, reader)
        return ObjectRef(bucket=bucket, name=name, sha256=sha, size=size)

    async def get(self, ref: ObjectRef) -> bytes:
        store = await self.bucket(ref.bucket)
        sink = io.BytesIO()
        try:
            await store.get(ref.name, writeinto=sink)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise ObjectMissing(f"{ref.bucket}/{ref.name} is missing") from exc
        data = sink.getvalue()
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise ObjectCorrupt(f"{ref.bucket}/{ref.name} does not match its recorded sha256")
        return data

    async def delete(self, bucket: str, name: str) -> bool:
        """Delete an object; False when it was not there (deleting twice is fine)."""
        store = await self.bucket(bucket)
        try:
            await store.delete(name)
        except (ObjectNotFoundError, NotFoundError):
            return False
        return True


def _hash_file(reader: BinaryIO) -> tuple[str, int]:
    start = reader.tell()
    digest = hashlib.sha256()
    size = 0
    while block := reader.read(1 << 20):
        digest.update(block)
        size += len(block)
    reader.seek(start)
    return digest.hexdigest(), size
