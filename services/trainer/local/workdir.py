"""A local run's folder under `SIMTUNE_HOME/trainer/runs/<tenant>/<run_id>/`: the job, its
data, the child's checkpoints and its output; checkpoints travel as tar archives."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path


class WorkDir:
    def __init__(self, home: Path, tenant: str, run_id: str) -> None:
        self.root = Path(home) / "trainer" / "runs" / tenant / run_id
        self.job = self.root / "job.json"
        self.train = self.root / "train.jsonl"
        self.val = self.root / "val.jsonl"
        self.checkpoints = self.root / "checkpoints"
        self.output = self.root / "output"

    def create(self) -> None:
        self.checkpoints.mkdir(parents=True, exist_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def pack_if_whole(folder: Path) -> bytes | None:
        """The checkpoint folder as a tar, or None when its files went while being read: the
        training process keeps only its newest checkpoints and may delete this one while a
        loaded machine is still archiving it. The next checkpoint is kept instead."""
        try:
            return WorkDir.pack(folder)
        except FileNotFoundError:
            return None

    @staticmethod
    def pack(folder: Path) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(folder, arcname=folder.name)
        return buffer.getvalue()

    def unpack_checkpoint(self, archive: bytes) -> None:
        """A checkpoint from the store, into `checkpoints/` (only plain files and folders
        inside it are taken)."""
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
            tar.extractall(self.checkpoints, filter="data")
