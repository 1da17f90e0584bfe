"""Operations: `/health` (`health`), the projections' state and their rebuild
(`projections`), and the probes both ask the services with (`probes`, also the console's
banner of stuck projections)."""

from __future__ import annotations

from gateway.admin import health, projections
from gateway.http.routes import tagged

ROUTES = [
    tagged(
        "operations",
        [
            *health.ROUTES,  # /health, and this process's /livez and /readyz
            *projections.ROUTES,  # /api/admin/projections[/{service}/rebuild[/{job}]]
        ],
    )
]
