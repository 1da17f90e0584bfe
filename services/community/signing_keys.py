"""Each person's Ed25519 signing key, kept by the community service.

A publication is signed with its publisher's private key, so the registry and every
importer can tell that what they got is what the publisher published. The key pair is made
on a person's first publication; the private half is sealed with their data key
(`runtime.keyring`) before it is stored, so it opens for them alone and is gone with the rest
of their data when they are forgotten (the table has a `tenant` column, which
`runtime.erasure` empties). The public half travels with every publication.

This is state, not a read model: no event holds a private key, and no rebuild touches it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.community import CONTEXT
from runtime import db
from runtime.keyring import Forgotten, Keyring
from runtime.sealing import TenantForgotten
from services.community.checks import signing

TABLE = f"{CONTEXT}.signing_keys"
PURPOSE = "community.signing_key"
DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " tenant text PRIMARY KEY, public_key text NOT NULL, private_sealed bytea NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())"
)
READ = text(f"SELECT public_key, private_sealed FROM {TABLE} WHERE tenant = :t")
# Two first publications at once agree on one key: the first insert wins, both read it.
INSERT = text(
    f"INSERT INTO {TABLE} (tenant, public_key, private_sealed) VALUES (:t, :public, :sealed)"
    " ON CONFLICT (tenant) DO NOTHING"
)


class SigningKeys:
    def __init__(self, engine: AsyncEngine, keyring: Keyring) -> None:
        self.engine, self.keyring = engine, keyring

    async def ensure(self) -> None:
        await db.ensure_tables(self.engine, CONTEXT, (DDL,))

    async def of(self, tenant: str) -> tuple[bytes, str]:
        """The person's (private key, base64 public key), made on first use."""
        try:
            found = await self._read(tenant)
            if found is None:
                private, public = signing.new_keypair()
                sealed = await self.keyring.seal(tenant, private, PURPOSE)
                async with self.engine.begin() as conn:
                    await conn.execute(INSERT, {"t": tenant, "public": public, "sealed": sealed})
                found = await self._read(tenant)
            assert found is not None
            public, sealed = found
            return await self.keyring.open(tenant, bytes(sealed), PURPOSE), public
        except Forgotten as exc:
            raise TenantForgotten(tenant) from exc

    async def public_key(self, tenant: str) -> str | None:
        found = await self._read(tenant)
        return found[0] if found else None

    async def _read(self, tenant: str):
        async with self.engine.connect() as conn:
            return (await conn.execute(READ, {"t": tenant})).first()
