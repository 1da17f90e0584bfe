"""The console: server-rendered pages (Jinja + htmx) for people, one module per context.

Each module ends with `ROUTES`, its Controllers; a new context is one import and one line
below. These routes stay out of `/schema`. Modules here use the shared gateway modules
(`gateway.backend`, `templating`, ...), never the JSON API.
"""

from __future__ import annotations

from gateway.console import (
    answers,
    backend_settings,
    chat,
    dataset_review,
    datasets,
    documents,
    experts,
    finetune,
    profile,
    search,
)

ROUTES = [
    *experts.ROUTES,  # /, /experts/{id}, /ui/experts (create, delete)
    *profile.ROUTES,  # /experts/{id}/edit: profile, style guide, banned topics
    *documents.ROUTES,  # /ui/experts/{id}/documents (upload, table, live), /ui/documents/{id}
    *search.ROUTES,  # /ui/experts/{id}/search
    *chat.ROUTES,  # /experts/{id}/chat (the answer streams from the API), /ui/experts/{id}/ask
    *answers.ROUTES,  # /ui/answers/{id}/card|score|feedback, /experts/{id}/traces
    *backend_settings.ROUTES,  # /experts/{id}/backend, /ui/experts/{id}/backend[/test]
    *datasets.ROUTES,  # /experts/{id}/datasets (builder, versions), /ui/datasets/{id}/cancel
    *dataset_review.ROUTES,  # /datasets/{id} (review), /ui/datasets/{id}/examples[/{ex}]
    *finetune.ROUTES,  # /experts/{id}/finetune (dashboard, run now, settings), /finetune/{run}
]
