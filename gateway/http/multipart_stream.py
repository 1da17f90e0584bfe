"""Stream a multipart/form-data body into temporary files, enforcing the size limit.

Nothing is read whole: each `file` part is counted and hashed as it arrives and spooled
to a temporary file (in memory while small). The first part over the limit stops the
upload with 413 at once, without reading the rest of the body. A form that sends a field
beside its file (an adapter archive's `expert_id`) can have those small fields collected.
"""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from contracts.base import DomainError, ErrorCode
from gateway.http.filetypes import HEAD_SIZE  # what the type detection looks at

FIELD = "file"
SPOOL_BYTES = 1024 * 1024  # a part larger than this goes to disk
MAX_FILES = 20  # per request
MAX_FILENAME = 200
MAX_FIELD_BYTES = 1000  # a form field beside the files: an id, a name


@dataclass
class Part:
    """One uploaded file, spooled; `head` is its first bytes, for type detection."""

    filename: str
    file: tempfile.SpooledTemporaryFile = field(
        default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    )
    size: int = 0
    head: bytearray = field(default_factory=bytearray)
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if len(self.head) < HEAD_SIZE:
            self.head += chunk[: HEAD_SIZE - len(self.head)]
        self.digest.update(chunk)
        self.file.write(chunk)

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def close(self) -> None:
        self.file.close()


@dataclass
class FormField:
    """A field that is not a file, kept in memory: it is small or the upload is refused."""

    name: str
    value: bytearray = field(default_factory=bytearray)

    def write(self, chunk: bytes) -> None:
        self.value += chunk
        if len(self.value) > MAX_FIELD_BYTES:
            raise DomainError(
                ErrorCode.INVALID, f"the field {self.name!r} is over {MAX_FIELD_BYTES} bytes"
            )


def clean_filename(raw: str | None) -> str:
    """The name without any directory part or control characters; never empty."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in ("", ".", ".."):
        return "upload"
    if len(name) > MAX_FILENAME:
        stem, dot, suffix = name.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        name = name[: MAX_FILENAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.3g} {unit}"
        size /= 1024
    return f"{size} GB"  # pragma: no cover


def boundary_of(content_type: str | None) -> str:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get("boundary")
    if kind != "multipart/form-data" or not boundary:
        raise DomainError(
            ErrorCode.INVALID,
            "send the files as multipart/form-data, each in a part named 'file'",
        )
    return boundary


async def read_parts(
    chunks: AsyncIterator[bytes],
    boundary: str,
    *,
    limit: int,
    total_limit: int,
    fields: dict[str, str] | None = None,
) -> list[Part]:
    """Spool every `file` part; other fields are ignored or, with `fields`, put into it as
    text. Raises DomainError (400/413)."""
    parts: list[Part] = []
    current: Part | FormField | None = None
    total = 0
    try:
        with PushMultipartParser(boundary, max_segment_count=MAX_FILES * 4) as parser:
            async for chunk in chunks:
                total += len(chunk)
                if total > total_limit:
                    raise _too_large(f"this upload is over {human_size(total_limit)} in all")
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        current = _start(event, parts, collect=fields is not None)
                    elif event is None:
                        if isinstance(current, FormField) and fields is not None:
                            fields[current.name] = current.value.decode("utf-8", "replace")
                        current = None
                    elif current is not None:
                        current.write(event)
                        if isinstance(current, Part) and current.size > limit:
                            raise _too_large(
                                f"{current.filename} is larger than the upload limit of"
                                f" {human_size(limit)}"
                            )
                if parser.closed:
                    break
    except MultipartError as exc:
        _close(parts)
        raise DomainError(
            ErrorCode.INVALID, f"the upload is not valid multipart data: {exc}"
        ) from exc
    except BaseException:
        _close(parts)
        raise
    if not parts:
        raise DomainError(ErrorCode.INVALID, "attach at least one file, in a part named 'file'")
    return parts


def _start(
    segment: MultipartSegment, parts: list[Part], *, collect: bool
) -> Part | FormField | None:
    if segment.name != FIELD:
        return FormField(segment.name) if collect and segment.filename is None else None
    if len(parts) >= MAX_FILES:
        raise DomainError(ErrorCode.INVALID, f"send at most {MAX_FILES} files at a time")
    part = Part(filename=clean_filename(segment.filename))
    parts.append(part)
    return part


def _too_large(detail: str) -> DomainError:
    return DomainError(ErrorCode.TOO_LARGE, detail)


def _close(parts: list[Part]) -> None:
    for part in parts:
        part.close()
