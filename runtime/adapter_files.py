"""An adapter version as plain files: `SIMTUNE_HOME/lora-adapters/<adapter_id>/`.

The bytes live in the `adapters` bucket (`<tenant>/<adapter_id>/<file>`); the folder is
their copy on this machine, made by whichever service needs it first (the registry when it
registers a version, the expert service when it answers with one on another machine). A copy
is made in a fresh folder beside it and renamed into place only once every file matches its
recorded sha256, so a reader never sees half a folder. Before a folder is used its files are
checked against the sha256 the log recorded; a folder that no longer matches is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from pathlib import Path

from contracts.trainer import BUCKET, AdapterFile
from runtime.objects import ObjectCorrupt, ObjectMissing, Objects

FOLDER = "lora-adapters"
READ_BLOCK = 1 << 20


def adapters_root(home: Path) -> Path:
    return home / FOLDER


def adapter_folder(home: Path, adapter_id: str) -> Path:
    return adapters_root(home) / adapter_id


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def hash_files(folder: Path, names: list[str]) -> list[AdapterFile]:
    """The sha256 and size of each named file of `folder`, sorted by name: what a version
    records. A missing file raises FileNotFoundError."""
    return [
        AdapterFile(
            name=name, sha256=sha256_file(folder / name), size=(folder / name).stat().st_size
        )
        for name in sorted(names)
    ]


def problems_of(folder: Path, files: list[AdapterFile]) -> list[str]:
    """What is wrong with a version's folder, in words; empty when every file matches."""
    problems = []
    for f in files:
        path = folder / f.name
        if not path.is_file():
            problems.append(f"{f.name} is missing")
        elif path.stat().st_size != f.size or sha256_file(path) != f.sha256:
            problems.append(f"{f.name} does not match its recorded sha256 (it was changed)")
    return problems


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` all at once: a temporary file beside it, flushed to disk,
    renamed over it, and the folder's entry flushed too. A crash leaves the old or the new
    file, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def incoming_folder(home: Path) -> Path:
    """A fresh folder beside the versions, to fill and then move into place."""
    folder = adapters_root(home) / f".incoming-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    return folder


def move_into_place(incoming: Path, target: Path) -> None:
    """Rename a complete folder to its version's name; if another copy got there first, keep
    that one (it holds the same checked bytes)."""
    try:
        os.rename(incoming, target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(incoming, ignore_errors=True)


async def materialize(
    objects: Objects, home: Path, tenant: str, adapter_id: str, files: list[AdapterFile]
) -> tuple[Path, list[str]]:
    """The version's folder, copied from the bucket when it is not here yet; with the
    problems found (a file missing from the bucket, or not matching its sha256)."""
    target = adapter_folder(home, adapter_id)
    if target.is_dir():
        return target, await asyncio.to_thread(problems_of, target, files)
    incoming = await asyncio.to_thread(incoming_folder, home)
    problems: list[str] = []
    try:
        for f in files:
            try:
                with (incoming / f.name).open("wb") as sink:
                    name = f"{tenant}/{adapter_id}/{f.name}"
                    await objects.read_into(BUCKET, name, sink, tenant=tenant)
            except ObjectMissing:
                problems.append(f"{f.name} is missing from the adapter store")
            except ObjectCorrupt:
                problems.append(f"{f.name} is damaged in the adapter store")
        if problems:
            return target, problems
        problems = await asyncio.to_thread(problems_of, incoming, files)
        if problems:
            return target, problems
        await asyncio.to_thread(move_into_place, incoming, target)
        return target, []
    finally:
        if incoming.exists():
            await asyncio.to_thread(shutil.rmtree, incoming, True)
