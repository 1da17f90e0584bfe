"""Reading files in a child process: the same chunks as reading in-process, the limits of
memory and time enforced, heartbeats while it works, documents read side by side."""

from __future__ import annotations

import asyncio

import msgspec
import psutil
import pytest

from contracts.ingest import Chunk
from services.ingest.chunking import chunk_pages
from services.ingest.parsing import ParseError, parse_document
from services.ingest.sandbox import Limits, ReaderCrashed, TooComplex, read_in_child
from tests.support import pdfs
from tests.support.hostile_pdfs import make_pdf_bomb

pytestmark = pytest.mark.integration

PDF = "application/pdf"
MB = 1024 * 1024


def limits(memory_mb: int = 1024, timeout_s: float = 60) -> Limits:
    return Limits(
        max_pages=40,
        chunk_size=400,
        chunk_overlap=60,
        memory_bytes=memory_mb * MB,
        timeout_s=timeout_s,
    )


async def no_heartbeat() -> None:
    pass


def readers() -> list[psutil.Process]:
    """The reader children of this process that are still alive."""
    found = []
    for child in psutil.Process().children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "services.ingest.reader" in " ".join(
                child.cmdline()
            ):
                found.append(child)
        except psutil.Error:  # ended in the meantime
            pass
    return found


async def test_a_child_reads_the_same_chunks_as_the_parser_in_process():
    data = pdfs.make_pdf(
        [f"Page {n}. The café's copper kettle chapter goes on. " * 30 for n in range(6)]
    )
    read = await read_in_child(data, PDF, limits(), heartbeat=no_heartbeat)
    expected = chunk_pages(parse_document(data, PDF, max_pages=40), size=400, overlap=60)
    assert read.pages == 6 and read.chunk_count == len(expected)
    assert msgspec.json.decode(read.chunks_json, type=list[Chunk]) == expected


async def test_text_in_any_script_comes_back_unchanged():
    data = '# Notizen\n\nÜber Kupferkessel: 銅のやかん, медный чайник, "quoted" \\ 🫖.\n'.encode()
    read = await read_in_child(data, "text/markdown", limits(), heartbeat=no_heartbeat)
    expected = chunk_pages(
        parse_document(data, "text/markdown", max_pages=40), size=400, overlap=60
    )
    assert msgspec.json.decode(read.chunks_json, type=list[Chunk]) == expected


async def test_a_file_the_parser_refuses_is_refused_with_its_reason():
    with pytest.raises(ParseError) as err:
        await read_in_child(
            pdfs.make_encrypted_pdf("secret"), PDF, limits(), heartbeat=no_heartbeat
        )
    assert err.value.code == "encrypted" and "password" in err.value.reason


async def test_python_reaching_the_memory_limit_is_too_complex():
    text = b"the quick brown fox jumps over the lazy dog\r\n" * 700_000  # 30 MB of text
    with pytest.raises(TooComplex) as err:
        await read_in_child(text, "text/plain", limits(memory_mb=128), heartbeat=no_heartbeat)
    assert err.value.limit == "memory"


async def test_pdfium_reaching_the_memory_limit_ends_the_child_not_the_service():
    with pytest.raises(ReaderCrashed) as err:
        await read_in_child(make_pdf_bomb(), PDF, limits(memory_mb=256), heartbeat=no_heartbeat)
    assert err.value.exitcode is not None and err.value.exitcode != 0
    assert readers() == []


async def test_a_read_past_its_time_is_killed_and_heartbeats_ran_meanwhile():
    beats = []

    async def heartbeat() -> None:
        beats.append(asyncio.get_running_loop().time())

    with pytest.raises(TooComplex) as err:
        await read_in_child(
            make_pdf_bomb(), PDF, limits(4096, timeout_s=1.5), heartbeat=heartbeat, heartbeat_s=0.2
        )
    assert err.value.limit == "time"  # stopped by its limit, not by finishing the read
    assert len(beats) >= 5
    assert readers() == []  # killed and reaped


async def test_documents_are_read_side_by_side():
    most = []

    async def heartbeat() -> None:
        most.append(len(readers()))

    bomb = make_pdf_bomb(300_000)  # about a second of PDFium's time each
    options = dict(heartbeat=heartbeat, heartbeat_s=0.1)
    results = await asyncio.gather(
        read_in_child(bomb, PDF, limits(4096), **options),
        read_in_child(bomb, PDF, limits(4096), **options),
    )
    assert [r.pages for r in results] == [1, 1]
    assert max(most) == 2
