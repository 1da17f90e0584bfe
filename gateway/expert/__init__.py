"""The expert context: experts themselves (`api`: `/api/experts`; `pages`: the list, an
expert's page; `profile`: editing who it is and how it writes) and, in `answers`, what it
answers (served by the same expert service)."""

from __future__ import annotations

from gateway.expert import answers, api, overviews, pages, profile

ROUTES = [
    *api.ROUTES,  # /api/experts
    *pages.ROUTES,  # /, /experts/{id}, /ui/experts (create, delete)
    *profile.ROUTES,  # /experts/{id}/edit, /ui/experts/{id}/edit
    *answers.ROUTES,
    *overviews.ROUTES,  # /finetune, /finetune/versions, /benchmark (all experts)
]
