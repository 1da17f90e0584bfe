"""The plain files the log describes: each version's `manifest.json` beside its files, and
each expert's `active.json`. Both are written from the expert's versions as the log has them
now (never from the event that happened to arrive), atomically, so writing them again — after
a redelivery, a crash or a rebuild — gives the same files."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import msgspec

from contracts.registry import MANIFEST, Manifest, whole_digest
from runtime.adapter_files import adapter_folder, adapters_root, write_atomic
from services.registry.domain import Version, Versions

POINTER = "active.json"
_json = msgspec.json.Encoder()


def pointer_path(home: Path, tenant: str, expert_id: str) -> Path:
    return adapters_root(home) / "experts" / tenant / expert_id / POINTER


def manifest_of(version: Version, *, active: bool) -> Manifest:
    r = version.registered
    return Manifest(
        id=r.adapter_id,
        expert_id=r.expert_id,
        created_at=r.created_at,
        base_model=r.base_model,
        backend=r.backend,
        traces_used=r.traces_used,
        dataset_id=r.dataset_id,
        run_id=r.run_id,
        metrics=r.metrics,
        config=r.config,
        tags=list(version.tags),
        is_active=active,
        size_bytes=r.size_bytes,
        files=list(r.files),
        sha256=whole_digest(list(r.files)) if r.files else None,
    )


def pretty(value) -> bytes:
    return msgspec.json.format(_json.encode(value), indent=2) + b"\n"


def pointer_of(state: Versions, expert_id: str) -> dict:
    active = state.versions.get(state.active) if state.active else None
    return {
        "expertId": expert_id,
        "adapterId": state.active,  # null: the base model
        "deployment": state.deployment,  # activations and rollbacks so far
        "path": str(adapter_folder(Path("."), state.active)) if active else None,
    }


def write_expert(
    home: Path, tenant: str, expert_id: str, state: Versions, only: set[str] | None = None
) -> None:
    """The manifests of the expert's versions (those in `only`, when given), then its
    pointer (called off the loop)."""
    for adapter_id, version in state.versions.items():
        if only is not None and adapter_id not in only:
            continue
        folder = adapter_folder(home, adapter_id)
        if version.registered.files and not folder.is_dir():
            continue  # its files are not on this machine (yet): nothing to describe
        manifest = manifest_of(version, active=adapter_id == state.active)
        path = folder / MANIFEST
        data = pretty(manifest)
        if not path.is_file() or path.read_bytes() != data:
            write_atomic(path, data)
    pointer = pointer_path(home, tenant, expert_id)
    data = pretty(pointer_of(state, expert_id))
    if not pointer.is_file() or pointer.read_bytes() != data:
        write_atomic(pointer, data)


def remove_version(home: Path, adapter_id: str) -> None:
    shutil.rmtree(adapter_folder(home, adapter_id), ignore_errors=True)


def remove_expert(home: Path, tenant: str, expert_id: str) -> None:
    """An erased expert's folder of plain files (its `active.json`)."""
    shutil.rmtree(pointer_path(home, tenant, expert_id).parent, ignore_errors=True)


async def sync(
    home: Path, tenant: str, expert_id: str, state: Versions, only: set[str] | None = None
) -> None:
    await asyncio.to_thread(write_expert, home, tenant, expert_id, state, only)
