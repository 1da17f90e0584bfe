"""What a route answers, in its OpenAPI document, where Litestar cannot tell from the return
annotation (a `Response`, a `Stream` or Server-Sent Events all read as JSON to it): an SSE
stream, CSV as well as JSON, a file of its own type.

    @get("/api/events", operation_class=answering(SSE), ...)
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

JSON = "application/json"
SSE = "text/event-stream"
CSV = "text/csv"
ANY_FILE = "*/*"  # a stored file, with the media type it was uploaded as

_TEXT = Schema(type=OpenAPIType.STRING)
_BYTES = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
# One event of a Server-Sent Events stream, its fields as a client reads them (`data` is the
# event's JSON, as text).
_SSE_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "event": _TEXT,
        "data": _TEXT,
        "id": _TEXT,
        "retry": Schema(type=OpenAPIType.INTEGER),
    },
)


def _schema_of(media_type: str) -> Schema:
    if media_type == SSE:
        return _SSE_EVENT
    return _TEXT if media_type.startswith("text/") else _BYTES


def answering(*media_types: str) -> type[Operation]:
    """An `operation_class` whose success answer is documented as each of `media_types`:
    JSON with the schema Litestar found for it, SSE as its events, any other type as text
    (bytes for files)."""

    @dataclass
    class Answering(Operation):
        def __post_init__(self) -> None:
            for status, response in (self.responses or {}).items():
                if not str(status).startswith("2") or isinstance(response, Reference):
                    continue
                found = next(iter((response.content or {}).values()), None)
                response.content = {
                    media_type: found
                    if media_type == JSON and found is not None
                    else OpenAPIMediaType(schema=_schema_of(media_type))
                    for media_type in media_types
                }

    return Answering
