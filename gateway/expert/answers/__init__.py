"""The answers an expert gives (served by the expert service): the JSON API (`api`: ask,
drafts, feedback, traces, the model backend), the OpenAI-compatible API (`openai`), one
answer followed while it is written (`live`, shared by both and the chat page), and the
console's chat page (`chat`), answer cards and traces (`pages`), model settings
(`backend_settings`), with `views` showing answers in plain words."""

from __future__ import annotations

from gateway.expert.answers import api, backend_settings, chat, openai, pages
from gateway.http.routes import tagged

ROUTES = [
    tagged("answers", api.ROUTES),  # /api/experts/{id}/ask|drafts|traces|backend, /api/answers/{id}
    *openai.ROUTES,  # /v1/models, /v1/chat/completions
    *chat.ROUTES,  # /experts/{id}/chat, /ui/experts/{id}/ask
    *pages.ROUTES,  # /ui/answers/{id}/card|score|feedback, /experts/{id}/traces
    *backend_settings.ROUTES,  # /experts/{id}/backend, /ui/experts/{id}/backend[/test]
]
