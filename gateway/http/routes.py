"""Routes that are one message to a service: the path's parameters fill the message (and,
after a command, the query that reads the result), the reply is the answer. Written as one
call instead of a handler each:

    one_message(get, "/api/datasets/{dataset_id:str}", GetDataset, name="get_dataset",
                summary="One dataset version", responses=...)

The same holds where the message takes more than the path's ids: `query` declares query
parameters that fill it too (`{"expert_id": (str, EXPERT_ID)}`: each its type and its
`Parameter`), `body` a request body whose fields do, `actor` the message's field that records
who asked (`by`: the caller, `backend.actor`), `owner` the field naming whose records it reads
(`user_id`: the signed-in person's own, on a route the middleware lets no one else call), and
`known` a query asked first so that an id naming nothing is a 404 before anything is sent
(the expert of a `?expert_id=` route). Each value goes to the message's field of the same
name (`fields_from`), and to `then`'s.

The handler gets `name` (OpenAPI's operationId comes from it), a signature naming each path
parameter, the body as `data`, each query parameter and `backend`, and the reply contract of
the message (or of `then`) as its return type, so Litestar validates and documents it as it
does a written one; a route whose `status_code` is 204 answers nothing instead.

A context's JSON routes carry no tags of their own: `tagged("datasets", api.ROUTES)` in
the context's package puts them all under its one OpenAPI tag.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from litestar import Router
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler

from contracts.base import reply_of
from gateway.backend import TIMEOUT_S, Backend
from gateway.http.fields import fields_from

PATH_PARAMETER = re.compile(r"\{(\w+):str\}")


def one_message(
    route: Callable[..., Callable[[Callable], HTTPRouteHandler]],
    path: str,
    message: type,
    *,
    name: str,
    then: type | None = None,
    timeout: float = TIMEOUT_S,
    query: Mapping[str, tuple[Any, Any]] | None = None,
    body: type | None = None,
    known: type | None = None,
    actor: str | None = None,
    owner: str | None = None,
    **options: Any,
) -> HTTPRouteHandler:
    """A `route` (litestar's `get`, `post`, `delete`, ...) at `path` that sends `message` built
    from the path's parameters (and `query`'s, and `body`'s fields); with `then`, a command
    whose result that query reads; with `known`, that query is asked first (when the
    parameters name what it looks up: an optional id left out checks nothing)."""
    names = PATH_PARAMETER.findall(path)
    queried = dict(query or {})
    no_content = options.get("status_code") == HTTP_204_NO_CONTENT
    answer = None if no_content else reply_of(then or message)

    async def handler(backend: Backend, data: Any = None, **parameters: Any) -> Any:
        if known is not None:
            looked_up = {f: parameters[f] for f in known.__struct_fields__ if f in parameters}
            if looked_up and None not in looked_up.values():
                await backend.ask(known(**looked_up))
        values = msgspec.structs.asdict(data) if data is not None else {}
        values.update(parameters)
        if actor is not None:
            values[actor] = backend.actor
        if owner is not None:
            assert backend.principal is not None  # the middleware let no one else through
            values[owner] = backend.principal.user_id
        sent = fields_from(message, values)
        if then is None:
            reply = await backend.ask(sent, timeout=timeout)
        else:
            reply = await backend.send(sent, then=fields_from(then, values), timeout=timeout)
        return None if no_content else reply

    keyword = inspect.Parameter.KEYWORD_ONLY
    annotations: dict[str, Any] = dict.fromkeys(names, str)
    parameters = [inspect.Parameter(n, keyword, annotation=str) for n in names]
    if body is not None:
        parameters.append(inspect.Parameter("data", keyword, annotation=body))
        annotations["data"] = body
    for n, (kind, default) in queried.items():
        parameters.append(inspect.Parameter(n, keyword, annotation=kind, default=default))
        annotations[n] = kind
    parameters.append(inspect.Parameter("backend", keyword, annotation=Backend))
    handler.__signature__ = inspect.Signature(parameters, return_annotation=answer)  # type: ignore[attr-defined]
    handler.__annotations__ = {**annotations, "backend": Backend, "return": answer}
    handler.__name__ = handler.__qualname__ = name
    return route(path, **options)(handler)


def tagged(tag: str, handlers: Sequence[ControllerRouterHandler]) -> Router:
    """`handlers` under the OpenAPI tag `tag`, their paths as they are."""
    return Router("/", tags=[tag], route_handlers=handlers)
