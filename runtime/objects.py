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

Every object is sealed with its owner's keys (`runtime.sealed_objects`): `put`, `get` and
`read_into` name the tenant whose object it is, and an `ObjectRef` still records the
plaintext's sha256 and size, so every check against it is the same. Sealing and opening run
in the object store's worker threads, never on the event loop. An object whose owner's data
key was destroyed is `ObjectForgotten`, a kind of `ObjectMissing`: it is gone for good, its
bytes wherever they were left unreadable. An object stored before sealing reads as it was.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
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
from runtime.keyring import Forgotten
from runtime.object_keys import ObjectKeys, check_owned
from runtime.sealed_objects import Damaged, OpeningWriter, SealingReader, wrapped_key_of
from runtime.secrets import SecretUnreadable


class ObjectMissing(Exception):
    """The object is not (or no longer) in its bucket."""


class ObjectForgotten(ObjectMissing):
    """The object's owner was forgotten (their data key destroyed): it opens no more."""

    def __init__(self, tenant: str, what: str) -> None:
        self.tenant = tenant
        super().__init__(f"{what} belonged to a person whose data was deleted")


class ObjectCorrupt(Exception):
    """The object's bytes or metadata are damaged: they do not match their digest (or do not
    open as the sealed object of this owner, bucket and name)."""


INTEGRITY_ERRORS = (DigestMismatchError, BadObjectMetaError, LinkIsABucketError)
HASH_OFF_LOOP = 1 << 20  # bytes: hashing more than this would stall the event loop
RECHECK_S = 2.0  # while a read waits: how often to ask whether the object is still there


class Stored(NamedTuple):
    """An object as a listing shows it: its name and when it was written."""

    name: str
    mtime: datetime


class Objects:
    """The object store, every object sealed with keys from `keys` (`LocalObjectKeys` in a
    service, `RemoteObjectKeys` in the gateway). `keys=None` stores plaintext and opens no
    sealed object: only a measurement of what sealing costs uses it. A bucket this creates is
    kept on `replicas` servers of a cluster (`SIMTUNE_STREAM_REPLICAS`, as the log's streams);
    an existing one is used as it is."""

    def __init__(self, js: JetStreamContext, keys: ObjectKeys | None, *, replicas: int = 1) -> None:
        self._js = js
        self._keys = keys
        self.replicas = replicas
        self._buckets: dict[str, object] = {}

    async def bucket(self, name: str):
        if name not in self._buckets:
            try:
                self._buckets[name] = await self._js.object_store(name)
            except (BucketNotFoundError, NotFoundError):
                config = api.ObjectStoreConfig(
                    bucket=name, storage=api.StorageType.FILE, replicas=self.replicas
                )
                self._buckets[name] = await self._js.create_object_store(name, config=config)
        return self._buckets[name]

    async def put(
        self,
        bucket: str,
        name: str,
        data: bytes | BinaryIO,
        *,
        tenant: str,
        known: tuple[str, int] | None = None,
    ) -> ObjectRef:
        """Store bytes (or a readable binary file, read from where it stands) under `name`,
        sealed for `tenant` (whose objects are named `<tenant>/...`); returns the reference of
        the plaintext. A forgotten tenant stores nothing: `ObjectForgotten`.

        `known` = (sha256, size) when the caller already hashed the bytes while receiving them.
        """
        check_owned(tenant, name)
        source: BinaryIO = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        store = await self.bucket(bucket)
        if self._keys is None:
            sha, size = known or await asyncio.to_thread(_hash_file, source)
            await store.put(name, source)
            return ObjectRef(bucket=bucket, name=name, sha256=sha, size=size)
        try:
            key, wrapped = await self._keys.new(tenant, bucket, name)
        except Forgotten as exc:
            raise ObjectForgotten(tenant, f"{bucket}/{name}") from exc
        sealing = SealingReader(source, key, wrapped, bucket, name, hashing=known is None)
        await store.put(name, sealing)  # read, and so sealed, in a worker thread
        sha, size = known or (sealing.sha256, sealing.size)
        return ObjectRef(bucket=bucket, name=name, sha256=sha, size=size)

    async def get(self, ref: ObjectRef, *, tenant: str) -> bytes:
        """The object's plaintext, checked against the sha256 `ref` recorded."""
        sink = io.BytesIO()
        await self.read_into(ref.bucket, ref.name, sink, tenant=tenant)
        data = sink.getvalue()
        if await sha256_of(data) != ref.sha256:
            raise ObjectCorrupt(f"{ref.bucket}/{ref.name} does not match its recorded sha256")
        return data

    async def read_into(self, bucket: str, name: str, sink: BinaryIO, *, tenant: str) -> None:
        """Stream `tenant`'s object's plaintext into a writable binary file (the caller
        checks its digest)."""
        store = await self.bucket(bucket)
        what = f"{bucket}/{name}"
        try:
            await self._read_into(store, bucket, name, sink, tenant)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise ObjectMissing(f"{what} is missing") from exc
        except INTEGRITY_ERRORS as exc:
            raise ObjectCorrupt(f"{what} is damaged ({type(exc).__name__})") from exc
        except Forgotten as exc:
            raise ObjectForgotten(tenant, what) from exc
        except SecretUnreadable as exc:
            raise ObjectCorrupt(f"{what} does not open as an object of its owner") from exc
        except Damaged as exc:
            raise ObjectCorrupt(str(exc)) from exc

    async def _read_into(self, store, bucket: str, name: str, sink: BinaryIO, tenant: str) -> None:
        """`store.get(name)` into `sink` through an `OpeningWriter`, abandoned once the object
        it reads is gone (ObjectNotFoundError) or replaced (then read again), instead of
        waiting for chunks that will never come.

        The object's key is opened here, on the event loop, before its chunks are streamed:
        its wrapped form is in the object's first chunk, read on its own. The writer, in the
        object store's worker thread, then only compares: a different wrapped key means the
        object was replaced in between, and it is read again."""
        while True:
            info = await store.get_info(name)
            try:
                unwrap = await self._key_of(info, tenant, bucket, name)
            except NotFoundError:  # its chunks went: replaced (read it anew) or deleted
                if (await store.get_info(name)).nuid == info.nuid:
                    raise
                continue
            sink.seek(0)
            sink.truncate()
            opening = OpeningWriter(sink, bucket, name, unwrap)
            reading = asyncio.ensure_future(store.get(name, writeinto=opening))
            try:
                while not (await asyncio.wait({reading}, timeout=RECHECK_S))[0]:
                    if (await store.get_info(name)).nuid != info.nuid:
                        break  # replaced while being read: read what is there now
                else:
                    reading.result()
                    if isinstance(opening.failure, _Replaced):
                        continue
                    opening.finish()  # at most a few bytes to write: the end of a short one
                    return
            finally:
                if not reading.done():  # nats-py leaves that read's chunk subscription behind
                    reading.cancel()
                    await asyncio.gather(reading, return_exceptions=True)

    async def _key_of(self, info, tenant: str, bucket: str, name: str) -> Callable:
        """The `unwrap` of the object `info` describes: its key opened beforehand from its
        first chunk (a direct get of that one message), for the writer to hand out."""
        if self._keys is None:
            return _unsealed_only
        wrapped = None
        if info.size:
            first = await self._js.get_msg(
                f"OBJ_{bucket}", seq=1, subject=f"$O.{bucket}.C.{info.nuid}", direct=True, next=True
            )
            wrapped = wrapped_key_of(first.data or b"")
        key = None if wrapped is None else await self._keys.open(tenant, bucket, name, wrapped)

        def unwrap(found: bytes) -> bytes:
            if key is None or found != wrapped:
                raise _Replaced()
            return key

        return unwrap

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


class _Replaced(Exception):
    """The object read is not the one whose key was opened: it was replaced in between."""


def _unsealed_only(wrapped: bytes) -> bytes:
    raise SecretUnreadable("this process stores and reads objects unsealed")


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
