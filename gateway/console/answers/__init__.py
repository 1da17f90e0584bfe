"""The answers context in the console: the chat page (ask, watch the answer being written),
an answer's card with its score and feedback, and the traces page.

`views` is how answers are shown in plain words; other contexts' pages use its helpers
(`when`, `lines`, `is_bundled`) too.
"""

from __future__ import annotations

from gateway.console.answers import chat, pages

ROUTES = [
    *chat.ROUTES,  # /experts/{id}/chat (the answer streams from the API), /ui/experts/{id}/ask
    *pages.ROUTES,  # /ui/answers/{id}/card|score|feedback, /experts/{id}/traces
]
