"""The hosted provider's API key, sealed with its tenant's data key (runtime.keyring) and
bound to this one purpose: a sealed key copied into another tenant's or another field's
event does not open. Keys sealed before the keyring still open (`ProviderKeys`)."""

from __future__ import annotations

from runtime.keyring import ProviderKeys

PURPOSE = "trainer.hosted.api_key"


async def seal(keys: ProviderKeys, tenant: str, api_key: str) -> str:
    return await keys.seal(tenant, api_key, PURPOSE)


async def open_key(keys: ProviderKeys, tenant: str, sealed: str) -> str:
    """The key in plain text, for one request's time; `SecretUnreadable` (or its kind
    `Forgotten`) when it cannot be read."""
    return await keys.open(tenant, sealed, PURPOSE)
