"""Letting an archive go: its object is deleted and `ExportExpired` says so (a download
link then answers that the export is no longer kept). Once per job: an expired job decides
nothing again."""

from __future__ import annotations

from contracts.accounts import EXPORTS_BUCKET, ExportExpired
from runtime.service import ServiceHost
from services.accounts.exports import domain
from services.accounts.exports.aggregates import EXPORT


async def expire(host: ServiceHost, tenant: str, job_id: str, object_name: str) -> None:
    await host.objects.delete(EXPORTS_BUCKET, object_name)
    event = ExportExpired(job_id=job_id)
    await EXPORT.execute(
        host.store, tenant, job_id, lambda s: domain.decide_expire(s, event), races=3
    )
