"""NATS Object Store helpers: large payloads (documents, chunk lists, embeddings, adapters).

Events never carry large payloads; they carry an ObjectRef (bucket, name, sha256, size).
`get` verifies the sha256 the event recorded, so a swapped or damaged object is noticed:
every integrity error of the object store (its own digest check, broken metadata) and a
mismatch with the recorded sha256 are `ObjectCorrupt`, which no retry can fix. Hashing
large payloads runs in a worker thread, off the event loop.

A read is not waited for forever: nats-py's `get` reads the object's info, then waits for
its chunks with no limit, so an object deleted or replaced in between (a document deleted
while its index is being written) would never arrive, and the caller would wait holding
whatever it holds (a projector, its checkpoint lock). While a read waits, the object is
looked at again every `RECHECK_S`: gone, it is `ObjectMissing`; replaced, it is read anew.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import UTC, datetime
from typing import BinaryIO, NamedTuple

from nats.js import JetStreamContext, api
from nats.js.errors import (
    BadObjectMetaError,
    BucketNotFoundError,
    DigestMismatchError,
    LinkIsABucketError,
    NotFoundError,
    ObjectNotFoundError,
)

from contracts.base import ObjectRef


class ObjectMissing(Exception):
    """The object is not (or no longer) in its bucket."""


class ObjectCorrupt(Exception):
    """The object's bytes or metadata are damaged: they do not match their digest."""


INTEGRITY_ERRORS = (DigestMismatchError, BadObjectMetaError, LinkIsABucketError)
HASH_OFF_LOOP = 1 << 20  # bytes: hashing more than this would stall the event loop
RECHECK_S = 2.0  # while a read waits: how often to ask whether the object is still there


class Stored(NamedTuple):
    """An object as a listing shows it: its name and when it was written."""

    name: str
    mtime: datetime


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
            sha, size = known or (await sha256_of(data), len(data))
            reader: BinaryIO = io.BytesIO(data)
        else:
            sha, size = known or await asyncio.to_thread(_hash_file, data)
            reader = data
        store = await self.bucket(bucket)
        await store.put(name, reader)
        return ObjectRef(bucket=bucket, name=name, sha256=sha, size=size)

    async def get(self, ref: ObjectRef) -> bytes:
        store = await self.bucket(ref.bucket)
        try:
            data = await _read(store, ref.name)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise ObjectMissing(f"{ref.bucket}/{ref.name} is missing") from exc
        except INTEGRITY_ERRORS as exc:
            raise ObjectCorrupt(
                f"{ref.bucket}/{ref.name} is damaged ({type(exc).__name__})"
            ) from exc
        if await sha256_of(data) != ref.sha256:
            raise ObjectCorrupt(f"{ref.bucket}/{ref.name} does not match its recorded sha256")
        return data

    async def read_into(self, bucket: str, name: str, sink: BinaryIO) -> None:
        """Stream an object into a writable binary file (the caller checks its digest)."""
        store = await self.bucket(bucket)
        try:
            await _read_into(store, name, sink)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise ObjectMissing(f"{bucket}/{name} is missing") from exc
        except INTEGRITY_ERRORS as exc:
            raise ObjectCorrupt(f"{bucket}/{name} is damaged ({type(exc).__name__})") from exc

    async def delete(self, bucket: str, name: str) -> bool:
        """Delete an object; False when it was not there (deleting twice is fine)."""
        store = await self.bucket(bucket)
        try:
            await store.delete(name)
        except (ObjectNotFoundError, NotFoundError):
            return False
        return True

    async def list(self, bucket: str, prefix: str = "") -> list[Stored]:
        """The objects of `bucket` whose names start with `prefix` (deleted ones left out)."""
        store = await self.bucket(bucket)
        try:
            infos = await store.list(ignore_deletes=True)
        except (NotFoundError, ObjectNotFoundError):
            return []  # an empty bucket
        return [
            Stored(i.name, _when(i.mtime))
            for i in infos
            if not i.deleted and i.name.startswith(prefix)
        ]

    async def delete_under(self, bucket: str, prefix: str) -> int:
        """Delete every object whose name starts with `prefix`; how many there were."""
        gone = 0
        for stored in await self.list(bucket, prefix):
            gone += await self.delete(bucket, stored.name)
        return gone


def _when(mtime: str | None) -> datetime:
    """An object's mtime (RFC 3339, nanoseconds) as a datetime; unknown: now (kept longest)."""
    if not mtime:
        return datetime.now(UTC)
    head, _, rest = mtime.rstrip("Z").partition(".")
    fraction = "".join(c for c in rest if c.isdigit())[:6]
    stamp = datetime.fromisoformat(f"{head}.{fraction or '0'}")
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp


async def _read(store, name: str) -> bytes:
    sink = io.BytesIO()
    await _read_into(store, name, sink)
    return sink.getvalue()


async def _read_into(store, name: str, sink: BinaryIO) -> None:
    """`store.get(name)` into `sink`, abandoned once the object it reads is gone
    (ObjectNotFoundError) or replaced (then read again), instead of waiting for chunks
    that will never come."""
    while True:
        nuid = (await store.get_info(name)).nuid
        sink.seek(0)
        sink.truncate()
        reading = asyncio.ensure_future(store.get(name, writeinto=sink))
        try:
            while not (await asyncio.wait({reading}, timeout=RECHECK_S))[0]:
                if (await store.get_info(name)).nuid != nuid:
                    break  # replaced while being read: read what is there now
            else:
                reading.result()
                return
        finally:
            if not reading.done():  # nats-py leaves that read's chunk subscription behind
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)


async def sha256_of(data: bytes | bytearray) -> str:
    if len(data) <= HASH_OFF_LOOP:
        return hashlib.sha256(data).hexdigest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())


def _hash_file(reader: BinaryIO) -> tuple[str, int]:
    start = reader.tell()
    digest = hashlib.sha256()
    size = 0
    while block := reader.read(1 << 20):
        digest.update(block)
        size += len(block)
    reader.seek(start)
    return digest.hexdigest(), size
