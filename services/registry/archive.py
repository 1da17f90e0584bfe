"""Adapter versions as `.tar.gz` archives, and the integrity of a version's folder.

`pack` makes the archive an export downloads: `manifest.json` and the version's files at its
root, with fixed metadata, so that the same version always packs to the same bytes. `unpack`
takes an archive someone uploads, ours or another tool's (a PEFT `save_pretrained` folder,
tarred as is), and extracts only the adapter's files, and only once the whole archive has
been read and found safe (see `archive_checks` and `adapter_checks`).

Plain synchronous file work, no NATS: the registry runs these in a thread.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import msgspec

from contracts.registry import MANIFEST, Manifest
from contracts.trainer import AdapterFile
from services.registry.adapter_checks import check_adapter, layout
from services.registry.archive_checks import (
    ADAPTER_NAMES,
    CHUNK,
    ArchiveRefused,
    open_members,
    path_parts,
    survey,
)

__all__ = ["ArchiveRefused", "Unpacked", "pack", "unpack"]


@dataclass(frozen=True)
class Unpacked:
    """What `unpack` extracted: the adapter's files (manifest.json aside), sorted by name."""

    files: list[AdapterFile]
    manifest: Manifest | None  # None: the archive had none (made by another tool)
    base_model: str | None  # adapter_config.json's base_model_name_or_path
    skipped: list[str]  # the archive's other files, not extracted
    size_bytes: int  # of `files`


def pack(folder: Path, manifest: Manifest, sink: BinaryIO) -> None:
    """Write to `sink` a `.tar.gz` of `manifest.json` and the files it lists from `folder`.

    Extracted, it is a folder that `PeftModel.from_pretrained` loads as is and that `unpack`
    accepts. Every header has the same owner, mode and time (the manifest's `createdAt`) and
    the gzip header no time or name: packing a version twice gives identical bytes."""
    names = sorted(f.name for f in manifest.files)
    for name in names:
        if name == MANIFEST or name not in ADAPTER_NAMES:
            raise ValueError(f"{MANIFEST} lists {name!r}, which is not an adapter file")
        if not stat.S_ISREG((folder / name).lstat().st_mode):
            raise ValueError(f"{folder / name} is not a regular file")
    mtime = _seconds(manifest.created_at)
    document = msgspec.json.format(msgspec.json.encode(manifest), indent=2)
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        tar.addfile(_header(MANIFEST, len(document), mtime), io.BytesIO(document))
        for name in names:
            path = folder / name
            with path.open("rb") as source:
                tar.addfile(_header(name, path.stat().st_size, mtime), source)


def unpack(archive: Path, dest: Path, *, max_bytes: int, max_files: int = 32) -> Unpacked:
    """Extract the adapter in `archive` into `dest`, an empty folder, or raise `ArchiveRefused`.

    The archive is read twice. First it is surveyed and checked whole, and a refused archive
    has written nothing at all. Then only the adapter's files are written, each to
    `dest/<its name>` (never a path from the archive), stopping at `max_bytes` written."""
    members = survey(archive, dest, max_bytes=max_bytes, max_files=max_files)
    kept, skipped = layout(members)
    files, manifest, base_model = check_adapter(kept, skipped)
    wanted = {"/".join(member.parts): (name, member.sha256) for name, member in kept.items()}
    written = 0
    with open_members(archive, max_bytes=max_bytes, max_files=max_files) as tar:
        for info in tar:
            if (target := wanted.get("/".join(path_parts(info.name)))) is None:
                continue
            name, sha256 = target
            digest = hashlib.sha256()
            with tar.extractfile(info) as source, (dest / name).open("xb") as sink:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise ArchiveRefused("too_large", f"{name} unpacks past {max_bytes} bytes")
                    digest.update(chunk)
                    sink.write(chunk)
            if digest.hexdigest() != sha256:
                raise ArchiveRefused("not_an_archive", f"{name} changed while it was unpacked")
    return Unpacked(
        files=files,
        manifest=manifest,
        base_model=base_model,
        skipped=skipped,
        size_bytes=sum(f.size for f in files),
    )


def _header(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    """A regular file's header with nothing of the machine that packed it."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _seconds(created_at: str) -> int:
    """An ISO time as Unix seconds (UTC when it names no zone); 0 when it is not one."""
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, int(moment.timestamp()))
