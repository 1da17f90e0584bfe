"""The community context: reasoning templates. A person's own templates and the one each
expert answers with (`api`: `/api/templates…`, `/api/experts/{id}/template`), the Community
hub's view of the registry (`hub`: `/api/community/templates…`), the registry's public API
that other installs and anyone speak to (`registry`: `/v1/templates…`, reads open to
anonymous callers, limited per address by `anonymous`), and the owner's moderation queue
(`moderation`: `/api/admin/moderation`), and the console's pages of all of it (`pages`:
`hub_pages`, `template_pages`, `expert_template_pages`, `moderation_pages`). `routes` holds
what the JSON routes share (the search's filters, the routes that are one body sent as one
command); `markdown` renders a template's Markdown as sanitized HTML wherever it is shown."""

from __future__ import annotations

from gateway.community import api, hub, moderation, pages, registry
from gateway.http.routes import tagged

ROUTES = [
    tagged("templates", [*api.ROUTES, *moderation.ROUTES]),  # /api/templates, /api/admin/moderation
    tagged("community", hub.ROUTES),  # /api/community/templates
    *registry.ROUTES,  # /v1/templates (tag "registry")
    *pages.ROUTES,  # /community, /templates, /experts/{id}/template, /admin/moderation
]
