"""What the console's handlers share: is this request from htmx (answer a fragment)?"""

from __future__ import annotations

from litestar import Request


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
