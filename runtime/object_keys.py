"""Where an object's own key comes from: made and wrapped by the owner's data key, and opened
again from its wrapped form (`runtime.sealed_objects`).

A service has the install's keyring and wraps keys itself (`LocalObjectKeys`); it also answers
`NewObjectKey` / `OpenObjectKey` for a process that has none (`ObjectKeyEndpoints`, served by
every service host). The gateway is such a process: it streams uploads into the object store
and downloads out of it, and asks for the keys over NATS (`RemoteObjectKeys`), the service of
the bucket's context answering for the tenant the gateway stamps on the query.

Either way the failures are the keyring's: `Forgotten` when the owner's data key was
destroyed, `SecretUnreadable` when the wrapped key is not of this owner's object.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.aio.client import Client as NATS

from contracts.base import DomainError, ErrorCode, NewObjectKey, ObjectKey, OpenObjectKey
from runtime import rpc
from runtime.keyring import Forgotten, Keyring
from runtime.sealed_objects import KEY_BYTES, key_purpose
from runtime.secrets import SecretUnreadable

# Which service a process without a keyring asks for the keys of a bucket's objects: the one
# whose context writes it (any service could answer: this spreads the asking).
ANSWERED_BY = {
    "documents": "ingest",
    "derived": "knowledge",
    "datasets": "dataset",
    "adapters": "registry",
    "adapter-imports": "registry",
    "exports": "registry",
    "checkpoints": "trainer",
    "account-exports": "accounts",
    "account-imports": "accounts",
}
DEFAULT_CONTEXT = "ingest"
TIMEOUT_S = 10.0


class ObjectKeys(Protocol):
    async def new(self, tenant: str, bucket: str, name: str) -> tuple[bytes, bytes]:
        """A fresh key for the object, and its wrapped form to store with it."""

    async def open(self, tenant: str, bucket: str, name: str, wrapped: bytes) -> bytes:
        """The object's key from its wrapped form."""


def check_owned(tenant: str, name: str) -> None:
    """A tenant's objects are named `<tenant>/...`: what deleting a person's objects (every
    name under their prefix) relies on."""
    if not name.startswith(f"{tenant}/"):
        raise ValueError(f"an object of {tenant} is named {tenant}/…, not {name}")


class LocalObjectKeys:
    """Object keys wrapped and opened with this process's keyring."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def new(self, tenant: str, bucket: str, name: str) -> tuple[bytes, bytes]:
        check_owned(tenant, name)
        key = AESGCM.generate_key(KEY_BYTES * 8)
        return key, await self.keyring.seal(tenant, key, key_purpose(bucket, name))

    async def open(self, tenant: str, bucket: str, name: str, wrapped: bytes) -> bytes:
        return await self.keyring.open(tenant, wrapped, key_purpose(bucket, name))


class RemoteObjectKeys:
    """Object keys asked of a service over NATS, for a process with no keyring."""

    def __init__(self, nc: NATS) -> None:
        self.nc = nc

    async def new(self, tenant: str, bucket: str, name: str) -> tuple[bytes, bytes]:
        check_owned(tenant, name)
        query = NewObjectKey(tenant=tenant, bucket=bucket, name=name)
        made = await self._ask(query, tenant)
        return made.key, made.wrapped

    async def open(self, tenant: str, bucket: str, name: str, wrapped: bytes) -> bytes:
        query = OpenObjectKey(tenant=tenant, bucket=bucket, name=name, wrapped=wrapped)
        return (await self._ask(query, tenant)).key

    async def _ask(self, query: NewObjectKey | OpenObjectKey, tenant: str) -> ObjectKey:
        context = ANSWERED_BY.get(query.bucket, DEFAULT_CONTEXT)
        try:
            return await rpc.ask(self.nc, query, timeout=TIMEOUT_S, context=context)
        except DomainError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise Forgotten(tenant) from exc
            if exc.code == ErrorCode.CONFLICT:
                raise SecretUnreadable(exc.detail) from exc
            raise


class ObjectKeyEndpoints:
    """`NewObjectKey` and `OpenObjectKey`, answered with this service's keyring for the
    query's tenant."""

    def __init__(self, keyring: Keyring) -> None:
        self.keys = LocalObjectKeys(keyring)

    async def new_key(self, q: NewObjectKey) -> ObjectKey:
        try:
            key, wrapped = await self.keys.new(q.tenant, q.bucket, q.name)
        except ValueError as exc:
            raise DomainError(ErrorCode.INVALID, str(exc)) from exc
        except Forgotten as exc:
            raise DomainError(ErrorCode.NOT_FOUND, "this person's data was deleted") from exc
        return ObjectKey(key=key, wrapped=wrapped)

    async def open_key(self, q: OpenObjectKey) -> ObjectKey:
        try:
            key = await self.keys.open(q.tenant, q.bucket, q.name, q.wrapped)
        except Forgotten as exc:
            raise DomainError(ErrorCode.NOT_FOUND, "this person's data was deleted") from exc
        except SecretUnreadable as exc:
            raise DomainError(
                ErrorCode.CONFLICT, "this object's key does not open for this owner"
            ) from exc
        return ObjectKey(key=key, wrapped=q.wrapped)
