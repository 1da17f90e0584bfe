"""What the trainer keeps on disk of a forgotten person (`runtime.erasure`): every run's work
folder (`trainer/runs/<tenant>/`: the job, the training data, checkpoints, the output). A run
still training for them notices the person is forgotten as it would a cancel
(`RunContext.cancelled`) and stops its child."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from services.trainer.local.workdir import WorkDir


def tenant_paths(home: Path):
    async def paths(_: AsyncConnection, tenant: str) -> list[Path]:
        return [WorkDir(home, tenant, "_").root.parent]

    return paths
