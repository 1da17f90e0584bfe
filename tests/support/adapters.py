"""Adapters for registry tests: tiny LoRA folders on the session's base model, packed as a
`.tar.gz` the way another tool would (no manifest), and imported through the gateway."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx

from tests.support.tiny_llm import random_lora


def lora_folder(base_model: Path, folder: Path, *, seed: int) -> Path:
    """A random LoRA (it changes the tiny model's answers) saved by PEFT into `folder`."""
    if not (folder / "adapter_config.json").is_file():
        random_lora(base_model, folder, seed=seed)
    return folder


def tar_gz(folder: Path, *, prefix: str = "") -> bytes:
    """`folder`'s files as a `.tar.gz`, under `prefix/` when given (as `tar czf` makes it)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                tar.add(path, arcname=f"{prefix}/{path.name}" if prefix else path.name)
    return buffer.getvalue()


async def import_archive(
    api: httpx.AsyncClient, expert_id: str, data: bytes, filename: str = "adapter.tar.gz"
) -> httpx.Response:
    """POST /api/lora/import: the archive as the multipart `file`, beside `expert_id`."""
    return await api.post(
        "/api/lora/import",
        data={"expert_id": expert_id},
        files={"file": (filename, data, "application/gzip")},
    )
