"""Wiring of the community service: its read models, the registry role, the local role
(which talks to the own registry directly, or to the one at TEMPLATE_REGISTRY_URL over
HTTP), the signing keys and the offline cache beside them, and what erasure needs."""

from __future__ import annotations

from contracts.community import TEMPLATE, TemplateDeleted
from runtime.erasure import AfterErased, TenantErasure
from runtime.service import ServiceHost
from runtime.settings import Settings
from services.community.cache import RegistryCache
from services.community.commands import TemplateCommands
from services.community.projections import RegistryProjection, TemplatesProjection
from services.community.queries import TemplateQueries
from services.community.registry import RegistryCommands, RegistryQueries
from services.community.registry_client import OwnRegistry, Registry, RemoteRegistry
from services.community.signing_keys import SigningKeys

NAME = "community"


def registry_for(
    settings: Settings, commands: RegistryCommands, queries: RegistryQueries
) -> Registry:
    """The registry the local role publishes to and imports from."""
    if settings.template_registry_url:
        return RemoteRegistry(settings.template_registry_url, settings.template_registry_api_key)
    return OwnRegistry(commands, queries)


async def build(host: ServiceHost) -> None:
    keys = SigningKeys(host.engine, host.keyring)  # each person's Ed25519 key, sealed
    await keys.ensure()
    cache = RegistryCache(host.engine)  # a remote registry's listings, for when it is away
    await cache.ensure()
    host.project(TemplatesProjection())
    host.project(RegistryProjection())
    registry_commands, registry_queries = RegistryCommands(host), RegistryQueries(host)
    registry = registry_for(host.settings, registry_commands, registry_queries)
    if isinstance(registry, RemoteRegistry):
        host.on_stop(registry.close)
    host.endpoints.serve_handlers(
        TemplateCommands(host, registry, keys, cache),
        TemplateQueries(host, registry, cache),
        registry_commands,
        registry_queries,
    )
    # a forgotten person's templates, applications and signing key
    TenantErasure(host).wire()
    # a deleted template's versions: no copy left in pages or WAL
    AfterErased(host, TEMPLATE, (TemplateDeleted,), ("templates", "template_versions")).wire()
