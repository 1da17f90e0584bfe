"""Old console URLs, from before each context had one name, answered with a permanent
redirect to the same page under its context's name (bookmarks and links keep working).

Only full pages move this way; the `/ui/...` fragments are asked for by the pages
themselves, which already use the new names.
"""

from __future__ import annotations

import re

from litestar import Request, get
from litestar.response import Redirect

from contracts.base import DomainError, ErrorCode
from contracts.rules import TOKEN_PATTERN

RENAMED = {"versions": "registry", "finetune": "trainer", "benchmarks": "benchmark"}
OLD_PAGES = [
    "/experts/{expert_id:str}/versions",
    "/experts/{expert_id:str}/versions/{page:str}",
    "/experts/{expert_id:str}/finetune",
    "/experts/{expert_id:str}/benchmarks",
    "/experts/{expert_id:str}/benchmarks/{page:str}",
    "/finetune/{run_id:str}",
    "/benchmarks/{run_id:str}",
]


def new_path(path: str) -> str:
    """The path with its context's old name replaced: the segment after the expert's id
    (`/experts/{id}/versions/...`) or the first one (`/finetune/{run}`)."""
    parts = path.split("/")
    at = 3 if parts[1] == "experts" else 1
    parts[at] = RENAMED.get(parts[at], parts[at])
    return "/".join(parts)


@get(OLD_PAGES, include_in_schema=False)
async def moved(request: Request) -> Redirect:
    """The same page under its new name; an id that is not a token names nothing (404), as on
    every other route, rather than being sent on."""
    ids = [v for k, v in request.path_params.items() if k.endswith("_id")]
    if not all(re.match(TOKEN_PATTERN, str(i)) for i in ids):
        raise DomainError(ErrorCode.NOT_FOUND, "there is nothing with that id")
    query = request.url.query
    return Redirect(new_path(request.url.path) + (f"?{query}" if query else ""), status_code=301)


ROUTES = [moved]
