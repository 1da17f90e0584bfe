"""The child process that reads one untrusted file: `python -m services.ingest.reader`.

Arguments: the media type and the limits (JSON of `sandbox.Limits`); the file comes on
stdin. The child limits its own address space, parses and chunks the file, and writes one
JSON line (`sandbox.Answer`), followed by the chunk list as JSON when it could read the file.
Started and watched by `services/ingest/sandbox.py`.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import BinaryIO

import msgspec

from contracts.ingest import Chunk
from services.ingest.chunking import chunk_pages
from services.ingest.parsing import ParseError, parse_document
from services.ingest.sandbox import Answer, Limits


def chunk_list_json(chunks: list[Chunk]) -> bytes:
    """The chunk list as JSON. The standard library's encoder raises MemoryError when the
    memory limit is reached; msgspec's ends the process with a segmentation fault instead."""
    rows = [{"index": c.index, "page": c.page, "text": c.text} for c in chunks]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()


def read(source: BinaryIO, media_type: str, limits: Limits) -> tuple[Answer, bytes]:
    try:
        data = source.read()
        pages = parse_document(data, media_type, max_pages=limits.max_pages)
        del data
        chunks = chunk_pages(pages, size=limits.chunk_size, overlap=limits.chunk_overlap)
        answer = Answer("read", pages=len(pages), chunks=len(chunks))
        del pages  # the chunks hold the text now; the encoding needs the room
        return answer, chunk_list_json(chunks)
    except ParseError as exc:
        return Answer("rejected", code=exc.code, reason=exc.reason), b""
    except MemoryError:
        return Answer("memory"), b""
    except Exception as exc:
        return Answer("failed", reason=f"{type(exc).__name__}: {exc}"), b""


def main() -> None:
    media_type, limits = sys.argv[1], msgspec.json.decode(sys.argv[2], type=Limits)
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    answer, body = read(sys.stdin.buffer, media_type, limits)
    out = sys.stdout.buffer
    out.write(msgspec.json.encode(answer) + b"\n")
    out.write(body)
    out.flush()


if __name__ == "__main__":
    main()
