"""The registry context: an expert's adapter versions. The JSON API (`api`: `/api/lora`, its
path fixed by the contract; `audit`: the audit trail as JSON or CSV), receiving an archive
to import (`imports`), and the console's versions panel, comparison and audit trail
(`pages`); `forms` are what the forms become, `views` how versions and audit entries are
shown, `adapters` what the context adds to its commands."""

from __future__ import annotations

from gateway.http.routes import tagged
from gateway.registry import api, pages

ROUTES = [
    tagged("adapters", api.ROUTES),  # /api/lora (versions, active, rollback, import, export, audit)
    *pages.ROUTES,  # /experts/{id}/registry[/compare|/audit], /ui/experts/{id}/registry/*, /ui/registry/*
]
