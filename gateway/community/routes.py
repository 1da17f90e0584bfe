"""What the community's JSON routes share: the search every listing of templates takes (the
registry's `/v1/templates` and the hub's `/api/community/templates`), the routes that read one
template at a `version` (its latest when left out), and the routes that are a body sent as
one command about a registry template (rate, review, report; on the registry and through the
hub). Each route is written as one call, as `gateway.http.routes.one_message` does, so what
differs between them is all that is written.

The search is one dependency, so both listings take the same filters under the same names
(FR-CT-11: words, domain, methodology, author) and OpenAPI documents them once; each value
is checked against the search contract's constraints before it leaves the gateway (400
naming the field).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import post
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from contracts.base import Accepted, Command, reply_of
from contracts.community import Sort
from gateway.backend import TIMEOUT_S, Backend
from gateway.http.routes import PATH_PARAMETER

KEYWORD = inspect.Parameter.KEYWORD_ONLY

VERSION = Parameter(
    query="version",
    default=None,
    description="A version (MAJOR.MINOR.PATCH); the latest if left out.",
)


def search_filters(
    q: str = Parameter(query="q", default="", description="Words to look for (full text)."),
    domain: str = Parameter(query="domain", default="", description="Only this domain."),
    methodology: str = Parameter(
        query="methodology", default="", description="Only this methodology."
    ),
    author: str = Parameter(query="author", default="", description="Only this author's."),
    sort: Sort = Parameter(query="sort", default="popular", description="The order."),
    page: int = Parameter(query="page", default=1, ge=1, description="From 1, 20 a page."),
) -> dict[str, Any]:
    """The search's fields, as `CommunitySearch` and `RegistrySearch` name them."""
    return {"q": q, "domain": domain, "methodology": methodology, "author": author,
            "sort": sort, "page": page}  # fmt: skip


SEARCH = {"search": Provide(search_filters, sync_to_thread=False)}


def about_template(
    path: str,
    body: type[msgspec.Struct],
    command: type[Command],
    *,
    name: str,
    timeout: float = TIMEOUT_S,
    **options: Any,
) -> HTTPRouteHandler:
    """A POST at `path` (which names `{registry_id:str}`) whose JSON `body` has exactly the
    fields of `command` besides the template's id; answers the command's `Accepted`."""

    async def handler(registry_id: str, data: Any, backend: Backend) -> Accepted:
        cmd = command(registry_id=registry_id, **msgspec.structs.asdict(data))
        return await backend.ask(cmd, timeout=timeout)

    parameters = {"registry_id": str, "data": body, "backend": Backend}
    return _made(handler, name, parameters, Accepted, post(path, **options))


def at_version(
    route: Callable[..., Callable[[Callable], HTTPRouteHandler]],
    path: str,
    message: type,
    *,
    name: str,
    timeout: float = TIMEOUT_S,
    **options: Any,
) -> HTTPRouteHandler:
    """A `route` (litestar's `get`, `post`) at `path` asking `message` about the template its
    one path parameter names, at the `version` query parameter (its latest when left out)."""
    [id_name] = PATH_PARAMETER.findall(path)

    async def handler(backend: Backend, version: str | None = None, **ids: str) -> Any:
        return await backend.ask(message(**ids, version=version), timeout=timeout)

    parameters = {id_name: str, "backend": Backend}
    return _made(handler, name, parameters, reply_of(message), route(path, **options), VERSION)


def _made(
    handler: Callable,
    name: str,
    parameters: dict[str, Any],
    answer: type,
    route: Callable[[Callable], HTTPRouteHandler],
    version: Any = None,
) -> HTTPRouteHandler:
    """`handler` with the signature Litestar reads (each of `parameters` by its type, and a
    `version` query parameter when given), named `name` (OpenAPI's operationId comes from it)
    and answering `answer`, as `route` makes it."""
    signature = [inspect.Parameter(n, KEYWORD, annotation=t) for n, t in parameters.items()]
    annotations = {**parameters, "return": answer}
    if version is not None:
        signature.append(
            inspect.Parameter("version", KEYWORD, annotation=str | None, default=version)
        )
        annotations["version"] = str | None
    handler.__signature__ = inspect.Signature(signature, return_annotation=answer)  # type: ignore[attr-defined]
    handler.__annotations__ = annotations
    handler.__name__ = handler.__qualname__ = name
    return route(handler)
