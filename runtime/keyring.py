"""Data keys per tenant (envelope encryption): what seals a person's secrets and, later,
their content, so that forgetting a person is destroying one key (crypto-shredding).

Each tenant has a data key — 32 random bytes, used with AES-256-GCM — made on first use.
The data key never leaves this module in plain text: it is stored *wrapped* (AES-GCM under a
key derived from the install's master key, `runtime.secrets.SecretBox`, with the tenant
bound as associated data, so a wrapped key cannot be moved to another tenant) in its own
table, `keyring.data_keys`, outside every projection schema and never in an event: the log
may be replayed and copied at will, the key that opens it may not. The table is state, not
a projection: a rebuild never touches it, and it is backed up apart from the log.

Two processes asking for a tenant's first key at once agree on one: each inserts its own
with `ON CONFLICT DO NOTHING` and then reads whichever landed. `destroy` drops the wrapped
key and keeps a tombstone, so what it sealed reads as `Forgotten` from then on, and no new
key is made for that tenant by mistake. A `scope` (default "", the tenant's own key) lets a
part of a tenant (one expert, say) have a key that can be destroyed on its own.

Sealed values bind the tenant, the scope and a purpose ("expert.backend.api_key") as
associated data: a value copied into another tenant's event, or into another field, does
not open. Unwrapped keys are kept in a small cache, bounded in size and in age, so a key
destroyed by another process stops working here within `CACHE_TTL_S`.

`rotate_master` wraps every live key again under a new master key, in one transaction;
the data keys, and so everything sealed with them, stay the same.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import time
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from runtime.db import ddl_lock
from runtime.secrets import SecretBox, SecretUnreadable
from runtime.settings import Settings

SCHEMA = "keyring"
TABLE = f"{SCHEMA}.data_keys"
NONCE = 12  # bytes: AES-GCM's standard nonce, random for each value sealed
WRAP_PURPOSE = "simtune keyring: wraps data keys (v1)"
CACHE_SIZE = 256  # unwrapped keys kept in memory at most
CACHE_TTL_S = 30.0  # how long a cached key is trusted before the table is read again

DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " tenant text NOT NULL, scope text NOT NULL DEFAULT '',"
    " wrapped bytea,"  # NULL once destroyed: the row stays as a tombstone
    " master_key_id text,"  # which master key wrapped it (SecretBox.key_id)
    " created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz,"
    " PRIMARY KEY (tenant, scope),"
    " CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL)))",
)


class Forgotten(SecretUnreadable):
    """The data key that sealed this value is gone (destroyed): the value is forgotten."""

    def __init__(self, tenant: str, scope: str = ""):
        self.tenant, self.scope = tenant, scope
        what = f"{tenant}/{scope}" if scope else tenant
        super().__init__(f"The data key of {what} was destroyed; what it sealed is forgotten.")


class MasterKeyMissing(SecretUnreadable):
    """A data key is wrapped by a master key this process was not given."""

    def __init__(self, key_id: str):
        super().__init__(
            f"A data key is wrapped by the master key {key_id}, which Simtune was not started"
            " with; start it with that SIMTUNE_SECRET_KEY (or key file), or rotate first."
        )


class Keyring:
    def __init__(
        self, engine: AsyncEngine, master: SecretBox, *, previous: Iterable[SecretBox] = ()
    ) -> None:
        """`previous` master keys can still unwrap (during a rotation); `master` wraps."""
        self.engine = engine
        self._master_id = master.key_id
        self._wrappers = {box.key_id: _wrapper(box) for box in (*previous, master)}
        self._cache: OrderedDict[tuple[str, str], tuple[AESGCM, float]] = OrderedDict()
        self._forgotten: OrderedDict[str, tuple[bool, float]] = OrderedDict()
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def seal(self, tenant: str, plaintext: bytes, aad: str, *, scope: str = "") -> bytes:
        """`plaintext` sealed with the tenant's data key (made on first use): nonce, then
        ciphertext and tag. `aad` names the purpose; the same is needed to open."""
        key = await self._key(tenant, scope, create=True)
        nonce = os.urandom(NONCE)
        return nonce + key.encrypt(nonce, plaintext, _bound(tenant, scope, aad))

    async def open(self, tenant: str, sealed: bytes, aad: str, *, scope: str = "") -> bytes:
        """The plaintext of `sealed`; `Forgotten` when the key is gone, `SecretUnreadable`
        when it was sealed for another tenant, scope or purpose, or was changed."""
        key = await self._key(tenant, scope, create=False)
        try:
            return key.decrypt(sealed[:NONCE], sealed[NONCE:], _bound(tenant, scope, aad))
        except (InvalidTag, ValueError):
            raise SecretUnreadable(
                "This value was not sealed for this owner and purpose, or was changed."
            ) from None

    async def is_forgotten(self, tenant: str) -> bool:
        """Whether the tenant's own data key was destroyed (a tombstone row): everything of
        theirs on the log reads as forgotten. Cached like the keys: a tenant forgotten by
        another process reads so here within `CACHE_TTL_S`; once forgotten, for good."""
        cached = self._forgotten.get(tenant)
        if cached is not None and (cached[0] or cached[1] > time.monotonic()):
            return cached[0]
        await self.ensure()
        async with self.engine.connect() as conn:
            row = await _row(conn, tenant, "")
        forgotten = row is not None and row[0] is None
        self._note_forgotten(tenant, forgotten)
        return forgotten

    def _note_forgotten(self, tenant: str, forgotten: bool) -> None:
        self._forgotten[tenant] = (forgotten, time.monotonic() + CACHE_TTL_S)
        self._forgotten.move_to_end(tenant)
        while len(self._forgotten) > CACHE_SIZE:
            self._forgotten.popitem(last=False)

    async def destroy(self, tenant: str, scope: str | None = None) -> int:
        """Destroy the tenant's data keys (every scope when `scope` is None, else that one):
        what they sealed is forgotten. Idempotent; the number of keys destroyed."""
        await self.ensure()
        where, params = "tenant = :t", {"t": tenant}
        if scope is not None:
            where, params = "tenant = :t AND scope = :s", {"t": tenant, "s": scope}
        async with self.engine.begin() as conn:
            destroyed = await conn.execute(
                text(
                    f"UPDATE {TABLE} SET wrapped = NULL, master_key_id = NULL,"
                    f" destroyed_at = now() WHERE {where} AND wrapped IS NOT NULL"
                ),
                params,
            )
            await conn.execute(  # a tombstone even where no key was made yet
                text(
                    f"INSERT INTO {TABLE} (tenant, scope, destroyed_at) VALUES (:t, :s, now())"
                    " ON CONFLICT DO NOTHING"
                ),
                {"t": tenant, "s": scope or ""},
            )
        for cached in [k for k in self._cache if k[0] == tenant and scope in (None, k[1])]:
            del self._cache[cached]
        if not scope:  # the tenant's own key: the tenant is forgotten
            self._note_forgotten(tenant, True)
        return destroyed.rowcount

    async def rotate_master(self, new: SecretBox) -> int:
        """Wrap every live data key again under `new`, in one transaction, and wrap with it
        from now on; the number of keys rewrapped. Keys wrapped by a master key this keyring
        was not given stop the rotation (`MasterKeyMissing`) before anything changes."""
        await self.ensure()
        new_wrapper, count = _wrapper(new), 0
        async with self.engine.begin() as conn:
            rows = await conn.execute(
                text(
                    f"SELECT tenant, scope, wrapped, master_key_id FROM {TABLE}"
                    " WHERE wrapped IS NOT NULL FOR UPDATE"
                )
            )
            for tenant, scope, wrapped, master_key_id in rows.all():
                data_key = self._unwrap(tenant, scope, bytes(wrapped), master_key_id)
                rewrapped = _wrap(new_wrapper, tenant, scope, data_key)
                await conn.execute(
                    text(
                        f"UPDATE {TABLE} SET wrapped = :w, master_key_id = :m"
                        " WHERE tenant = :t AND scope = :s"
                    ),
                    {"w": rewrapped, "m": new.key_id, "t": tenant, "s": scope},
                )
                count += 1
        self._wrappers[new.key_id] = new_wrapper
        self._master_id = new.key_id
        return count

    # ---- the keys --------------------------------------------------------------------------

    async def _key(self, tenant: str, scope: str, *, create: bool) -> AESGCM:
        cached = self._cache.get((tenant, scope))
        if cached is not None and cached[1] > time.monotonic():
            self._cache.move_to_end((tenant, scope))
            return cached[0]
        await self.ensure()
        async with self.engine.begin() as conn:
            row = await _row(conn, tenant, scope)
            if row is None and create:
                row = await self._create(conn, tenant, scope)
        if row is None:
            raise Forgotten(tenant, scope)  # never made: nothing it could have sealed remains
        wrapped, master_key_id = row
        if wrapped is None:
            raise Forgotten(tenant, scope)
        key = AESGCM(self._unwrap(tenant, scope, bytes(wrapped), master_key_id))
        self._cache[(tenant, scope)] = (key, time.monotonic() + CACHE_TTL_S)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return key

    async def _create(self, conn: AsyncConnection, tenant: str, scope: str):
        """A new key, unless another process made one first (then theirs); none for a
        tenant whose keys were destroyed."""
        if scope and await _row(conn, tenant, "") == (None, None):
            raise Forgotten(tenant)
        wrapped = _wrap(self._wrappers[self._master_id], tenant, scope, AESGCM.generate_key(256))
        await conn.execute(
            text(
                f"INSERT INTO {TABLE} (tenant, scope, wrapped, master_key_id)"
                " VALUES (:t, :s, :w, :m) ON CONFLICT DO NOTHING"
            ),
            {"t": tenant, "s": scope, "w": wrapped, "m": self._master_id},
        )
        return await _row(conn, tenant, scope)  # ours, or the one that landed first

    def _unwrap(self, tenant: str, scope: str, wrapped: bytes, master_key_id: str) -> bytes:
        wrapper = self._wrappers.get(master_key_id)
        if wrapper is None:
            raise MasterKeyMissing(master_key_id)
        try:
            return wrapper.decrypt(wrapped[:NONCE], wrapped[NONCE:], _wrap_bound(tenant, scope))
        except InvalidTag:
            raise SecretUnreadable(
                f"The data key of {tenant} does not open with master key {master_key_id}."
            ) from None

    async def ensure(self) -> None:
        """Its table, made once per process (taking turns with other processes for DDL); a
        service does it as it starts, so no DDL lock is taken while it serves."""
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                async with self.engine.begin() as conn:
                    await ddl_lock(conn)
                    for statement in DDL:
                        await conn.execute(text(statement))
                self._ready = True


class ProviderKeys:
    """A person's API keys for model servers and fine-tuning providers, as they travel in
    events: sealed with their tenant's data key, marked `v2:`. Values sealed before the
    keyring (a bare Fernet token, sealed with the install's key) still open through
    `legacy`, so events already on the log keep working; they are never written again."""

    MARK = "v2:"
    KEY_ID = "keyring"  # what `key_id` beside a v2 value says: the tenant's data key sealed it

    def __init__(self, keyring: Keyring, legacy: SecretBox) -> None:
        self.keyring, self.legacy = keyring, legacy

    @classmethod
    def of(cls, settings: Settings, engine: AsyncEngine) -> ProviderKeys:
        master = SecretBox.open(settings.home, settings.secret_key)
        return cls(Keyring(engine, master), master)

    async def seal(self, tenant: str, secret: str, purpose: str) -> str:
        sealed = await self.keyring.seal(tenant, secret.encode("utf-8"), purpose)
        return self.MARK + base64.urlsafe_b64encode(sealed).decode("ascii")

    async def open(self, tenant: str, sealed: str, purpose: str) -> str:
        """The secret; `Forgotten` or `SecretUnreadable` (its message asks for the key
        again) when it cannot be read."""
        if not sealed.startswith(self.MARK):
            return self.legacy.unseal(sealed)
        try:
            raw = base64.urlsafe_b64decode(sealed[len(self.MARK) :].encode("ascii"))
        except (binascii.Error, UnicodeEncodeError):
            raise SecretUnreadable() from None
        try:
            return (await self.keyring.open(tenant, raw, purpose)).decode("utf-8")
        except UnicodeDecodeError:
            raise SecretUnreadable() from None


async def _row(conn: AsyncConnection, tenant: str, scope: str):
    found = await conn.execute(
        text(f"SELECT wrapped, master_key_id FROM {TABLE} WHERE tenant = :t AND scope = :s"),
        {"t": tenant, "s": scope},
    )
    row = found.first()
    return None if row is None else (row[0], row[1])


def _wrapper(master: SecretBox) -> AESGCM:
    return AESGCM(master.derive(WRAP_PURPOSE))


def _wrap(wrapper: AESGCM, tenant: str, scope: str, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + wrapper.encrypt(nonce, data_key, _wrap_bound(tenant, scope))


def _wrap_bound(tenant: str, scope: str) -> bytes:
    return json.dumps(["simtune.keyring", tenant, scope]).encode()


@lru_cache(maxsize=4096)  # the same few purposes of the same tenants, over and over
def _bound(tenant: str, scope: str, aad: str) -> bytes:
    """The associated data of a sealed value: unambiguous (a JSON list), so no two
    (tenant, scope, purpose) triples ever read the same."""
    return json.dumps([tenant, scope, aad]).encode()
