"""The registry context in the console: an expert's adapter versions, their comparison and
their audit trail (`pages`); `forms` are what the forms become, `views` how versions and audit
entries are shown.
"""

from __future__ import annotations

from gateway.console.versions import pages

ROUTES = pages.ROUTES  # /experts/{id}/versions[/compare|/audit], /ui/.../versions/*, /ui/adapters/*
