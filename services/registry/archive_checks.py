"""Reading an uploaded adapter archive safely, before any of it is written to disk.

`survey` reads the whole `.tar.gz` once, as a stream, and writes nothing: it vets every
member's header (no absolute path, no `..`, no link, no device or FIFO, no duplicate, not too
many, not too big), hashes every regular file and keeps the two small JSON files it must
read. What the files must be to make an adapter is `adapter_checks`' to decide.

Every refusal is an `ArchiveRefused` with a short code and a sentence naming the member.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from contracts.registry import MANIFEST
from contracts.trainer import ADAPTER_FILES, RECORD_FILES

ADAPTER_NAMES = frozenset((*ADAPTER_FILES, *RECORD_FILES, MANIFEST))  # all that is extracted
CONFIG, WEIGHTS = "adapter_config.json", "adapter_model.safetensors"
PICKLED_WEIGHTS = "adapter_model.bin"  # refused: unpickling it can run any code
CHUNK = 1 << 20
JSON_CAP = 1 << 20  # an adapter's config or manifest is a few kB: more is no adapter's
# Room for what a tar holds besides its files' bytes: each member's header (and pax or long
# name header) and padding, the end-of-archive blocks and the last record's padding.
_ROOM_PER_MEMBER, _ROOM = 8 * 1024, 64 * 1024
# What reading a broken, truncated or foreign file raises, from gzip, zlib or tarfile.
_UNREADABLE = (tarfile.TarError, OSError, EOFError, zlib.error)


class ArchiveRefused(Exception):
    """The archive is not accepted: `code` for programs, `sentence` for the person."""

    def __init__(self, code: str, sentence: str) -> None:
        super().__init__(sentence)
        self.code = code
        self.sentence = sentence


@dataclass(frozen=True)
class Member:
    """A file or folder of the archive, as the survey found it."""

    parts: tuple[str, ...]  # its path's components, without "." or empty ones
    is_file: bool
    size: int = 0
    sha256: str = ""
    data: bytes | None = None  # the bytes of adapter_config.json and manifest.json


class _CappedReader:
    """The decompressed side of the gzip, refusing to give more than `limit` bytes.

    Member sizes are checked from their headers, but tarfile reads a pax or long-name header
    into memory whole, and a gzip of zeros can be a thousand times its size: this cap stops
    any such bomb at the limit, whatever the headers say."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw, self._limit, self._left = raw, limit, limit

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            size = self._left + 1  # one byte more than allowed tells "too much" from "enough"
        data = self._raw.read(size)
        self._left -= len(data)
        if self._left < 0:
            raise ArchiveRefused(
                "too_large", f"the archive unpacks to more than {self._limit} bytes with headers"
            )
        return data


@contextmanager
def open_members(archive: Path, *, max_bytes: int, max_files: int) -> Iterator[tarfile.TarFile]:
    """The archive's members one after the other (tarfile's stream mode: no seeking back),
    from at most as many decompressed bytes as `max_bytes` of files and their headers take."""
    limit = max_bytes + max_files * _ROOM_PER_MEMBER + _ROOM
    with (
        archive.open("rb") as raw,
        gzip.GzipFile(fileobj=raw, mode="rb") as unzipped,
        tarfile.open(fileobj=_CappedReader(unzipped, limit), mode="r|") as tar,
    ):
        yield tar


def path_parts(name: str) -> tuple[str, ...]:
    """A member's path as components: `./a//b/` is ("a", "b")."""
    return tuple(part for part in name.split("/") if part not in ("", "."))


def survey(archive: Path, dest: Path, *, max_bytes: int, max_files: int) -> dict[str, Member]:
    """Every member of the archive by its path, vetted and hashed; nothing is written."""
    members: dict[str, Member] = {}
    total = 0
    try:
        with open_members(archive, max_bytes=max_bytes, max_files=max_files) as tar:
            for count, info in enumerate(tar, start=1):
                if count > max_files:
                    raise ArchiveRefused(
                        "too_many_files", f"the archive holds more than {max_files} members"
                    )
                _vet(info, dest)
                total += info.size
                if total > max_bytes:
                    raise ArchiveRefused(
                        "too_large",
                        f"{info.name!r} takes the archive past {max_bytes} bytes unpacked",
                    )
                parts = path_parts(info.name)
                if not parts:  # the archive's own "." folder
                    continue
                key = "/".join(parts)
                if key in members:
                    raise ArchiveRefused("duplicate_member", f"{key!r} is in the archive twice")
                members[key] = _read(tar, info, parts)
    except _UNREADABLE as error:
        raise ArchiveRefused(
            "not_an_archive", f"this is not a complete .tar.gz archive ({error})"
        ) from error
    return members


def _vet(info: tarfile.TarInfo, dest: Path) -> None:
    """Refuse a member that could write outside `dest` or is not a plain file or folder.
    tarfile's own "data" filter then looks too, in case a trick gets past these checks."""
    name = info.name
    if name.startswith("/"):
        raise ArchiveRefused("absolute_path", f"{name!r} is an absolute path")
    if ".." in name.split("/"):
        raise ArchiveRefused("path_traversal", f"{name!r} climbs out of its folder with '..'")
    if info.issym() or info.islnk():
        raise ArchiveRefused("link", f"{name!r} is a link to {info.linkname!r}")
    if not (info.isdir() or info.isreg()) or info.issparse():
        raise ArchiveRefused("special_file", f"{name!r} is a device, FIFO or other special file")
    try:
        tarfile.data_filter(info, str(dest))
    except tarfile.FilterError as error:
        raise ArchiveRefused("unsafe_member", f"{name!r} is unsafe to extract: {error}") from error


def _read(tar: tarfile.TarFile, info: tarfile.TarInfo, parts: tuple[str, ...]) -> Member:
    if not info.isreg():
        return Member(parts, is_file=False)
    digest, kept = hashlib.sha256(), bytearray()
    # Only the JSON files where an adapter's root can be (the archive's root or its one top
    # folder) are read into memory, each at most JSON_CAP: a member of that name elsewhere is
    # skipped like any other file, however many the archive holds.
    keep = parts[-1] in (CONFIG, MANIFEST) and len(parts) <= 2
    if keep and info.size > JSON_CAP:
        raise ArchiveRefused(
            "too_large", f"{'/'.join(parts)!r} is over {JSON_CAP} bytes: no adapter's is"
        )
    with tar.extractfile(info) as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            if keep:
                kept += chunk
    return Member(parts, True, info.size, digest.hexdigest(), bytes(kept) if keep else None)
