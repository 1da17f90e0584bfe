"""The console's templates, a module each: the Community hub and a published template
(`hub_pages`), the person's own templates (`template_pages`), the template section of an
expert's page (`expert_template_pages`) and the registry owner's moderation queue
(`moderation_pages`); what they share is in `page_parts`.

Everything a template holds was written by someone else, possibly to attack whoever reads
it: its Markdown is shown only through `markdown.render` (rendered, then sanitized), every
other field through Jinja's autoescaping, and a diff through difflib and the same
sanitizer. No page has an inline script or handler (the console's CSP allows neither).
"""

from __future__ import annotations

from gateway.community.expert_template_pages import ExpertTemplatePages
from gateway.community.hub_pages import CommunityPages
from gateway.community.moderation_pages import ModerationPages
from gateway.community.template_pages import TemplatePages

ROUTES = [CommunityPages, TemplatePages, ExpertTemplatePages, ModerationPages]
