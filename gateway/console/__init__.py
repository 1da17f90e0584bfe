"""The console: server-rendered pages (Jinja + htmx) for people, one module (or package, for a
context with several pages) per context.

Each has `ROUTES`, its Controllers; a new context is one import and one line
below. These routes stay out of `/schema`. Modules here use the shared gateway modules
(`gateway.backend`, `templating`, ...), never the JSON API.
"""

from __future__ import annotations

from gateway.console import (
    answers,
    backend_settings,
    benchmarks,
    datasets,
    documents,
    experts,
    finetune,
    profile,
    search,
    versions,
)

ROUTES = [
    *experts.ROUTES,  # /, /experts/{id}, /ui/experts (create, delete)
    *profile.ROUTES,  # /experts/{id}/edit: profile, style guide, banned topics
    *documents.ROUTES,  # /ui/experts/{id}/documents (upload, table, live), /ui/documents/{id}
    *search.ROUTES,  # /ui/experts/{id}/search
    *answers.ROUTES,  # /experts/{id}/chat, /ui/experts/{id}/ask, /ui/answers/..., traces
    *backend_settings.ROUTES,  # /experts/{id}/backend, /ui/experts/{id}/backend[/test]
    *datasets.ROUTES,  # /experts/{id}/datasets (builder), /datasets/{id} (review), /ui/...
    *finetune.ROUTES,  # /experts/{id}/finetune (dashboard, run now, settings), /finetune/{run}
    *versions.ROUTES,  # /experts/{id}/versions (activate, roll back, tag, ...), compare, audit
    *benchmarks.ROUTES,  # /experts/{id}/benchmarks (dashboard, questions, diagnosis), /benchmarks/{run}
]
