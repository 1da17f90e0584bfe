"""A download is hashed off the event loop: while an export of gigabytes is checked against
its sha256, the loop keeps running every other request's and stream's callbacks.

The file below lets each of its reads through only once the event loop has run a callback
since the read before. Hashed on the loop, its first read would wait for a callback that can
never run (and fail after its guard); hashed in a worker thread, each read sees the loop go on.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import threading

import pytest

from contracts.base import DomainError
from gateway.http.downloads import HASH_BLOCK, verified

GUARD_S = 20.0  # how long a read waits for the loop before calling it blocked (never hit)


class LoopWitness(io.BytesIO):
    """Bytes whose every read waits until the event loop has ticked since the last read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.ticked = threading.Condition()
        self.ticks = 0  # callbacks the event loop has run
        self.seen = 0  # ticks seen by the last read
        self.reads = 0
        self.readers: set[int] = set()  # the threads that read

    def tick(self) -> None:
        with self.ticked:
            self.ticks += 1
            self.ticked.notify_all()

    def read(self, size: int | None = -1) -> bytes:
        self.readers.add(threading.get_ident())
        with self.ticked:
            after = self.seen
            if not self.ticked.wait_for(lambda: self.ticks > after, timeout=GUARD_S):
                raise AssertionError("the event loop ran nothing while the file was hashed")
            self.seen = self.ticks
        self.reads += 1
        return super().read(size)


async def hashed_while_probing(file: LoopWitness, sha256: str):
    """`verified(file, sha256)` beside a probe that ticks on the loop until it is done."""
    done = asyncio.Event()

    async def probe() -> None:  # what any other request or stream is to the loop
        while not done.is_set():
            file.tick()
            await asyncio.sleep(0)

    prober = asyncio.create_task(probe())
    try:
        return await verified(file, sha256)
    finally:
        done.set()
        await prober


async def test_the_loop_runs_callbacks_throughout_the_hash_of_a_download():
    data = os.urandom(8 * HASH_BLOCK + 123)
    file = LoopWitness(data)
    size = await hashed_while_probing(file, hashlib.sha256(data).hexdigest())
    assert size == len(data)
    assert file.reads >= 9  # every block, each after the loop ran a callback
    assert file.ticks >= file.reads
    assert threading.get_ident() not in file.readers  # never read on the loop's thread


async def test_a_download_that_does_not_match_its_sha256_is_refused():
    data = os.urandom(2 * HASH_BLOCK)
    with pytest.raises(DomainError) as refused:
        await hashed_while_probing(LoopWitness(data), hashlib.sha256(b"other").hexdigest())
    assert refused.value.code == "internal" and "checksum" in refused.value.detail
