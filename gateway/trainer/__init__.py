"""The trainer context: fine-tuning runs. The JSON API (`api`: `/api/finetune`, its path fixed
by the contract: queue, runs, progress, cancel, settings, estimate) and the console's
dashboard and run page (`pages`); `forms` are what their forms become, `views` how runs,
estimates and settings are shown."""

from __future__ import annotations

from gateway.http.routes import tagged
from gateway.trainer import api, pages

ROUTES = [
    tagged("fine-tuning", api.ROUTES),  # /api/finetune (runs, SSE, cancel, config, estimate)
    *pages.ROUTES,  # /experts/{id}/trainer (dashboard, run now, settings), /trainer/{run}
]
