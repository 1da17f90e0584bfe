"""The JSON API (`/api/...`, `/health`), one module per bounded context.

Each module ends with `ROUTES`, its route handlers; a new context is one import and one
line below. Modules here use the shared gateway modules (`gateway.backend`, `errors`,
`schemas`, ...), never the console.
"""

from __future__ import annotations

from gateway.api import (
    admin,
    answers,
    benchmark,
    datasets,
    documents,
    events,
    experts,
    finetune,
    health,
    lora,
    openai,
    search,
)

ROUTES = [
    *experts.ROUTES,  # /api/experts
    *documents.ROUTES,  # /api/experts/{id}/documents (upload, list), /api/documents/{id}
    *search.ROUTES,  # /api/experts/{id}/search
    *answers.ROUTES,  # /api/experts/{id}/ask, drafts, traces, backend; /api/answers/{id}
    *datasets.ROUTES,  # /api/experts/{id}/datasets, /api/datasets/{id}/... (review, export)
    *finetune.ROUTES,  # /api/finetune (runs, progress SSE, cancel), /api/finetune/config|estimate
    *lora.ROUTES,  # /api/lora (versions, active, activate, rollback, tag, import, export, audit)
    *benchmark.ROUTES,  # /api/benchmark (runs, progress SSE, results, questions, summary, export)
    *openai.ROUTES,  # /v1/models, /v1/chat/completions (OpenAI-compatible)
    *events.ROUTES,  # /api/events (SSE)
    *health.ROUTES,  # /health
    *admin.ROUTES,  # /api/admin/projections
]
