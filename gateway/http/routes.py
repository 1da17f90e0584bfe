"""Routes that are one message to a service: the path's parameters fill the message (and,
after a command, the query that reads the result), the reply is the answer. Written as one
call instead of a handler each:

    one_message(get, "/api/datasets/{dataset_id:str}", GetDataset, name="get_dataset",
                summary="One dataset version", responses=...)

The handler gets `name` (OpenAPI's operationId comes from it), a signature naming each path
parameter and `backend`, and the reply contract of the message (or of `then`) as its return
type, so Litestar validates and documents it as it does a written one.

A context's JSON routes carry no tags of their own: `tagged("datasets", api.ROUTES)` in
the context's package puts them all under its one OpenAPI tag.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from litestar import Router
from litestar.handlers import HTTPRouteHandler
from litestar.types import ControllerRouterHandler

from contracts.base import reply_of
from gateway.backend import TIMEOUT_S, Backend

PATH_PARAMETER = re.compile(r"\{(\w+):str\}")


def one_message(
    route: Callable[..., Callable[[Callable], HTTPRouteHandler]],
    path: str,
    message: type,
    *,
    name: str,
    then: type | None = None,
    timeout: float = TIMEOUT_S,
    **options: Any,
) -> HTTPRouteHandler:
    """A `route` (litestar's `get`, `post`, `delete`, ...) at `path` that sends `message` built
    from the path's parameters; with `then`, a command whose result that query reads."""
    names = PATH_PARAMETER.findall(path)
    answer = reply_of(then or message)

    async def handler(backend: Backend, **ids: str) -> Any:
        if then is None:
            return await backend.ask(message(**ids), timeout=timeout)
        return await backend.send(message(**ids), then=then(**ids), timeout=timeout)

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter(n, keyword, annotation=str) for n in names]
    parameters.append(inspect.Parameter("backend", keyword, annotation=Backend))
    handler.__signature__ = inspect.Signature(parameters, return_annotation=answer)  # type: ignore[attr-defined]
    handler.__annotations__ = {**dict.fromkeys(names, str), "backend": Backend, "return": answer}
    handler.__name__ = handler.__qualname__ = name
    return route(path, **options)(handler)


def tagged(tag: str, handlers: Sequence[ControllerRouterHandler]) -> Router:
    """`handlers` under the OpenAPI tag `tag`, their paths as they are."""
    return Router("/", tags=[tag], route_handlers=handlers)
