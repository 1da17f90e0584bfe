"""The knowledge context: searching an expert's documents, as JSON (`api`) and as the
search box of the expert's page (`pages`), both through `search`."""

from __future__ import annotations

from gateway.http.routes import tagged
from gateway.knowledge import api, pages

ROUTES = [
    tagged("knowledge", api.ROUTES),  # /api/experts/{id}/search
    *pages.ROUTES,  # /ui/experts/{id}/search
]
