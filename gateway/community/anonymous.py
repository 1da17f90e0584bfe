"""The registry's public reads, limited per address for whoever sends no API key.

`GET /v1/templates…` is public (`opt={"public": True}`): anyone may search and read a
registry, so the `authenticate` middleware lets every request through. Anonymous readers are
counted per client address instead (`Limits.anonymous_request`, at most
`SIMTUNE_ANONYMOUS_REQUESTS_PER_IP` an hour, 429 with Retry-After past it). A request with an
API key of this instance (with the `read` scope) is not anonymous: it is not counted, and the
route acts for its person (a download is credited to them, so they may rate it later). A key
nobody owns counts as an unknown credential (the same limit as everywhere else, so a public
route is no place to guess keys) and the request as an anonymous one.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from contracts.base import DomainError
from gateway.accounts.authentication import PRINCIPAL, Recent, credential_of, whois
from gateway.accounts.limits import Limits


async def limit_anonymous(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard: count an anonymous request of this address, or refuse it (RateLimited)."""
    scope, headers = connection.scope, connection.headers
    limits = Limits.of(scope)
    address = limits.client(scope, headers)
    credential = credential_of(headers)
    if credential:
        limits.check_credentials(address)
        try:
            principal = await whois(scope["app"].state.backend, credential)
        except DomainError:  # accounts cannot say: read on, as anyone may, but counted
            principal = None
        else:
            if principal is None:
                limits.unknown_credential(address, Recent.fingerprint(credential))
        if principal is not None and "read" in principal.scopes:
            connection.scope.setdefault("state", {})[PRINCIPAL] = principal
            return
    limits.anonymous_request(address)
