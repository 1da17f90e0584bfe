"""Reading an untrusted file in a child process, with a memory and a time limit.

A file's bytes are turned into chunks (parsed, then chunked) by a fresh interpreter,
`python -m services.ingest.reader` (the file on its stdin, the outcome on its stdout), so a
PDF bomb or a pathological page costs that child and never the service:

- memory: the child limits its own address space (RLIMIT_AS) to `Limits.memory_bytes`
  before it reads the file. Python code that reaches the limit raises MemoryError, answered
  as `TooComplex`; PDFium aborts instead, and a child that ends without an answer is
  `ReaderCrashed`. A crash is not decided at once (the system's OOM killer may have chosen
  it): the reactor retries, then gives up with a reason that names memory.
- time: a child that has not answered after `Limits.timeout_s` seconds is killed
  (`TooComplex`). Meanwhile `heartbeat()` runs every few seconds, so the work queue does not
  hand the document to another worker while it is still being read.

The child is started by fork+exec of a new interpreter, like multiprocessing's "spawn"
(the service has threads and an event loop, which a plain fork would copy half-way), but
without re-importing the service's main module. Every document gets its own child, so
documents are read in parallel (as many as the reactor's concurrency) and PDFium, which is
not thread-safe, never needs a lock shared between documents. Starting one costs ~0.1 s.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from runtime.child_env import child_env
from runtime.settings import Settings
from services.ingest.parsing import ParseError

ROOT = Path(__file__).resolve().parents[2]  # where `services` can be imported from
STDERR_TAIL = 2000


class Limits(msgspec.Struct, frozen=True):
    max_pages: int
    chunk_size: int
    chunk_overlap: int
    memory_bytes: int
    timeout_s: float

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits a service with these settings reads files under."""
        return cls(
            max_pages=settings.max_pages,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            memory_bytes=settings.parse_memory_bytes,
            timeout_s=settings.parse_timeout_s,
        )


class Answer(msgspec.Struct, frozen=True, omit_defaults=True):
    """The first line the child writes; for "read", the chunk list (JSON) follows it."""

    outcome: str  # read | rejected | memory | failed
    pages: int = 0
    chunks: int = 0
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Read:
    """What the child made of a file: its page count and its chunk list as JSON."""

    pages: int
    chunk_count: int
    chunks_json: bytes


class TooComplex(Exception):
    """The file breached a limit; `limit` is "memory" or "time"."""

    def __init__(self, limit: str, limits: Limits) -> None:
        super().__init__(f"the file needs more {limit} to read than allowed")
        self.limit, self.limits = limit, limits


class ReaderCrashed(Exception):
    """The child ended without an answer (`exitcode` < 0: killed by that signal)."""

    def __init__(self, exitcode: int | None, stderr: str) -> None:
        super().__init__(f"the reader process ended with exit code {exitcode}: {stderr}")
        self.exitcode = exitcode


class ReaderFailed(Exception):
    """The parser raised something unexpected (a bug, as far as anyone knows)."""


async def read_in_child(
    data: bytes,
    media_type: str,
    limits: Limits,
    *,
    heartbeat: Callable[[], Awaitable[None]],
    heartbeat_s: float = 5.0,
) -> Read:
    """Parse and chunk `data` in a child process.

    Raises ParseError (the file cannot be read, decided), TooComplex (a limit, decided),
    ReaderCrashed or ReaderFailed (worth another try).
    """
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.ingest.reader",
        media_type,
        msgspec.json.encode(limits).decode(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=child_env(),  # no key, no address: it reads an untrusted file
    )
    talk = asyncio.create_task(child.communicate(data))
    try:
        if not await _finished(talk, limits.timeout_s, heartbeat, heartbeat_s):
            raise TooComplex("time", limits)
        out, err = talk.result()
    finally:
        if child.returncode is None:
            child.kill()
        await asyncio.gather(talk, return_exceptions=True)
    return _outcome(out, err, child.returncode, limits)


async def _finished(talk: asyncio.Task, timeout_s: float, heartbeat, heartbeat_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        done, _ = await asyncio.wait({talk}, timeout=min(heartbeat_s, remaining))
        if done:
            return True
        await heartbeat()


def _outcome(out: bytes, err: bytes, returncode: int | None, limits: Limits) -> Read:
    head, _, body = out.partition(b"\n")
    try:
        answer = msgspec.json.decode(head, type=Answer)
    except msgspec.MsgspecError:
        stderr = err.decode("utf-8", "replace")[-STDERR_TAIL:].strip()
        raise ReaderCrashed(returncode, stderr) from None
    match answer.outcome:
        case "read":
            return Read(pages=answer.pages, chunk_count=answer.chunks, chunks_json=body)
        case "rejected":
            raise ParseError(answer.code, answer.reason)
        case "memory":
            raise TooComplex("memory", limits)
    raise ReaderFailed(answer.reason)
