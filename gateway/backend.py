"""The gateway's one door to the services: commands and queries over NATS.

Both the JSON API and the pages go through `Backend`, so they show the same thing. A caller
sends the contract's message itself (`await backend.ask(GetExpert(expert_id=...))`): the
message knows its subject and its reply. `send(command, then=query)` reads the view after
the command (read-your-writes): the query waits for the command's stream sequence, so the
reply always includes the change just made. What one context adds to these (merging two
replies, the wording of an error) lives in that context's package, not here.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import msgspec
from nats.aio.client import Client as NATS

from contracts.accounts import Principal
from contracts.base import Command, DomainError, ErrorCode, Query
from contracts.rules import TOKEN_PATTERN, explain, violated_pattern
from runtime import rpc
from runtime.codec import decode, encode
from runtime.object_keys import RemoteObjectKeys
from runtime.objects import Objects
from runtime.settings import Settings

if TYPE_CHECKING:
    from gateway.sse.hub import EventHub

NOBODY = "nobody"  # the tenant of a request no one signed in for: it owns nothing
TIMEOUT_S = 10.0
ACTOR_LENGTH = 100  # what the audit trail keeps of a name


def check_contract(payload: Any) -> None:
    """Refuse a message its service would refuse, before it leaves the gateway: an id that
    is not a token (`>`, `*`, `a.b`, empty) names nothing, so it is a 404; any other broken
    rule is a 400 naming it."""
    try:
        decode(encode(payload), type(payload))
    except msgspec.ValidationError as exc:
        message = str(exc)
        if violated_pattern(message) == TOKEN_PATTERN:
            raise DomainError(ErrorCode.NOT_FOUND, "there is nothing with that id") from exc
        raise DomainError(ErrorCode.INVALID, explain(message)) from exc


class Backend:
    """The NATS connection with what every context needs from it: the tenant the gateway
    acts for, the settings, the hub of projected events (SSE) and the object store.

    The app holds one, acting for nobody; each request gets `acting_for(principal)`, the same
    connection acting for the person signed in. Every command and query it sends carries
    that person's tenant, whatever the message said, so no request can name another's."""

    def __init__(self, nc: NATS, settings: Settings, hub: EventHub) -> None:
        self.nc, self.settings, self.hub = nc, settings, hub
        self.js = nc.jetstream()
        self.objects = Objects(  # keys asked of the services
            self.js, RemoteObjectKeys(nc), replicas=settings.stream_replicas
        )
        self.tenant = NOBODY
        self.principal: Principal | None = None

    def acting_for(self, principal: Principal) -> Backend:
        acting = copy.copy(self)
        acting.tenant, acting.principal = principal.tenant, principal
        return acting

    @property
    def actor(self) -> str:
        """Who the audit trail names for this request: the person (and the key) signed in."""
        if self.principal is None:
            return "anonymous"
        return (self.principal.actor or self.principal.email)[:ACTOR_LENGTH]

    async def ask(self, message: Any, timeout: float = TIMEOUT_S, context: str = "") -> Any:
        """One command or query to the service that serves it (the contract names it, and the
        reply), for this backend's tenant; a service's typed error comes back as a
        DomainError. The message is checked against its contract first (`check_contract`)."""
        if isinstance(message, Command | Query) and message.tenant != self.tenant:
            message = msgspec.structs.replace(message, tenant=self.tenant)
        check_contract(message)
        return await rpc.ask(self.nc, message, timeout=timeout, context=context)

    async def send(
        self,
        command: Command,
        *,
        then: Query | None = None,
        timeout: float = TIMEOUT_S,
        context: str = "",
    ) -> Any:
        """A command; with `then`, the reply of that query read after the command's event
        (its `after_seq` set to the command's stream sequence) instead of the command's."""
        accepted = await self.ask(command, timeout=timeout, context=context)
        if then is None:
            return accepted
        return await self.ask(msgspec.structs.replace(then, after_seq=accepted.seq))
