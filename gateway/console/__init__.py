"""The console: server-rendered pages (Jinja + htmx) for people, one module per context.

Each module ends with `ROUTES`, its Controllers; a new context is one import and one line
below. These routes stay out of `/schema`. Modules here use the shared gateway modules
(`gateway.backend`, `templating`, ...), never the JSON API.
"""

from __future__ import annotations

from gateway.console import documents, experts, search

ROUTES = [
    *experts.ROUTES,  # /, /experts/{id}, /ui/experts (create, delete)
    *documents.ROUTES,  # /ui/experts/{id}/documents (upload, table, live), /ui/documents/{id}
    *search.ROUTES,  # /ui/experts/{id}/search
]
