"""What the console's pages share: is this request from htmx (answer a fragment)?, the body
of a plain HTML form, and the words every context's views use (a time, a textarea's lines).
"""

from __future__ import annotations

from datetime import datetime

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import Body

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)  # a form posted without JavaScript too


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def when(iso: str) -> str:
    """'2025-03-01 14:05' from an ISO timestamp (as stored, in UTC)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def lines(text: str) -> list[str]:
    """The non-empty lines of a textarea, trimmed (one list item per line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]
