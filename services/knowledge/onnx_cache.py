"""Where converted embedding models live: one folder per source model under
`<cache>/embedders/<key>/`, published by one atomic rename and checked before each load.

Converting a model takes seconds and a service starts often, so the result is kept. The key
is the source model's identity (every file of its folder, by content) plus the versions of
what produced the conversion, so a changed model or an upgraded converter never reuses an old
result. The folder is built under a temporary name and renamed into place only when complete,
so a crash mid-conversion leaves nothing that is later loaded; its manifest, written last,
holds the SHA-256 of every file, so a file damaged afterwards (a full disk, a hand edit) is
found before it is loaded, and the entry is discarded and built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

MANIFEST = "manifest.json"
STALE_STAGING_S = 3600  # a staging folder this old belongs to a process that died converting


def source_identity(folder: Path, *, recipe: str, tools: tuple[str, ...]) -> str:
    """A key naming this exact model (its files' names and contents, hidden files aside),
    converted by `recipe` with these versions of `tools` (distribution names)."""
    h = hashlib.sha256(recipe.encode())
    for dist in tools:
        h.update(f"\0{dist}={_version(dist)}".encode())
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    for path in files:
        h.update(f"\0{path.relative_to(folder).as_posix()}\0{path.stat().st_size}\0".encode())
        h.update(file_digest(path).encode())
    return h.hexdigest()[:32]


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def intact(entry: Path) -> dict | None:
    """The manifest of a complete entry whose files all match their digests, else None."""
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
        files = manifest["files"]
        if not files:
            return None
        for name, digest in files.items():
            if file_digest(entry / name) != digest:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return manifest


def cached(root: Path, key: str, build: Callable[[Path], dict]) -> tuple[Path, dict, bool]:
    """The intact entry `root/key` and its manifest, built first when missing or damaged
    (`build(staging)` writes the files into `staging` and returns what the manifest should
    say besides their digests). The third value is True when this call built it.
    """
    entry = root / key
    manifest = intact(entry)
    if manifest is not None:
        return entry, manifest, False
    if entry.exists():
        discard(entry)
    root.mkdir(parents=True, exist_ok=True)
    _sweep_stale_staging(root)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        manifest = dict(build(staging))
        names = sorted(p.name for p in staging.iterdir() if p.is_file() and p.name != MANIFEST)
        manifest["files"] = {name: file_digest(staging / name) for name in names}
        for name in names:
            _fsync(staging / name)
        _write_durably(staging / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        try:
            staging.rename(entry)
        except OSError:
            if intact(entry) is None:  # not another process that finished first: a real error
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    manifest = intact(entry)
    if manifest is None:
        raise OSError(f"the converted model in {entry} does not match its manifest")
    return entry, manifest, True


def discard(entry: Path) -> None:
    """Remove a damaged entry: renamed away first, so no reader sees it half deleted."""
    doomed = entry.with_name(f".{entry.name}-discarded-{os.getpid()}-{time.time_ns()}")
    try:
        entry.rename(doomed)
    except OSError:
        doomed = entry
    shutil.rmtree(doomed, ignore_errors=True)


def _sweep_stale_staging(root: Path) -> None:
    cutoff = time.time() - STALE_STAGING_S
    for path in root.glob(".*"):
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def _write_durably(path: Path, text: str) -> None:
    path.write_text(text)
    _fsync(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"
