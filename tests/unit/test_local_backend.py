"""The local backend on a tiny random Llama built in the test: streaming, the queue,
cancellation, stop sequences, adapters. Real transformers and PEFT; nothing is downloaded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from services.expert.llm import (
    Adapter,
    BackendBusy,
    BackendConfig,
    BackendError,
    Finished,
    LocalBackend,
    LocalModel,
    Params,
    Piece,
    make_backend,
)
from services.expert.llm.text_stream import IncrementalDecoder, StopScanner
from tests.support.tiny_llm import build_tiny_llm, build_tokenizer, random_lora, train_lora
from tests.support.waiting import until

SKY = [{"role": "user", "content": "What colour is the sky?"}]
ANSWER = "The sky is blue."
GREEDY = Params(max_tokens=24, temperature=0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_tiny_llm(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def endless(tmp_path_factory) -> Path:
    return build_tiny_llm(tmp_path_factory.mktemp("endless"), ends=False)


@pytest.fixture(scope="module")
def taught(tiny, tmp_path_factory) -> Adapter:
    path = train_lora(tiny, tmp_path_factory.mktemp("sky"), SKY, ANSWER)
    return Adapter("sky-v1", path)


@pytest.fixture(scope="module")
def scrambler(tiny, tmp_path_factory) -> Adapter:
    return Adapter("noise-v1", random_lora(tiny, tmp_path_factory.mktemp("noise"), seed=7))


@pytest.fixture(scope="module")
def reference(tiny):
    """The same model loaded plainly, never wrapped by PEFT: what `generate` says directly."""
    return AutoModelForCausalLM.from_pretrained(tiny).eval(), AutoTokenizer.from_pretrained(tiny)


@pytest.fixture
async def backend(tiny, tmp_path):
    local = await asyncio.to_thread(LocalModel.load, str(tiny), tmp_path)
    backend = LocalBackend(local)
    yield backend
    await backend.close()


def direct_greedy(reference, messages, max_new_tokens: int) -> tuple[str, int, int]:
    """(text, prompt tokens, completion tokens) of a plain greedy `model.generate`."""
    model, tokenizer = reference
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = torch.tensor([tokenizer.encode(prompt, add_special_tokens=False)])
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False)
    generated = out[0, ids.shape[1] :]
    return tokenizer.decode(generated, skip_special_tokens=True), ids.shape[1], len(generated)


async def collect(stream) -> tuple[str, list[str], Finished]:
    pieces, finished = [], None
    async for item in stream:
        if isinstance(item, Piece):
            assert finished is None, "a piece arrived after Finished"
            pieces.append(item.text)
        else:
            assert finished is None, "two Finished"
            finished = item
    assert finished is not None
    return "".join(pieces), pieces, finished


async def first_piece(stream) -> Piece:
    async for item in stream:
        if isinstance(item, Piece):
            return item
    raise AssertionError("no piece")


async def test_streamed_pieces_join_to_the_direct_greedy_answer(backend, reference):
    text, pieces, finished = await collect(backend.stream(SKY, GREEDY))
    expected, prompt_tokens, completion_tokens = direct_greedy(reference, SKY, 24)

    assert text == expected and len(pieces) > 1
    assert finished == Finished(prompt_tokens, completion_tokens, "length")
    assert completion_tokens == 24


async def test_the_chat_template_is_applied(backend):
    messages = [{"role": "system", "content": "Be brief."}, *SKY]
    prompt = backend.render_prompt(messages)

    assert prompt == (
        "<s><|system|>\nBe brief.</s>\n<|user|>\nWhat colour is the sky?</s>\n<|assistant|>\n"
    )
    _, _, finished = await collect(backend.stream(messages, Params(max_tokens=1, temperature=0)))
    assert finished.prompt_tokens == backend.count_tokens(prompt)
    assert backend.context_tokens() == 4096
    assert await backend.check() > 0


async def test_every_local_config_shares_the_one_queue(backend):
    first = make_backend(BackendConfig(kind="local"), local=backend.local)
    assert make_backend(BackendConfig(kind="local"), local=backend.local) is first
    assert first.kind == "local" and first.model == str(backend.local.name)
    await first.close()
    assert make_backend(BackendConfig(kind="local"), local=backend.local) is not first


async def test_an_adapter_answers_as_taught_and_without_it_the_base_answer_returns(
    backend, reference, taught
):
    base, _, _ = direct_greedy(reference, SKY, 24)
    assert base != ANSWER

    text, _, finished = await collect(backend.stream(SKY, GREEDY, adapter=taught))
    assert text == ANSWER
    answer_tokens = len(backend._encode(ANSWER)) + 1  # and the end-of-sequence token
    assert (finished.completion_tokens, finished.finish_reason) == (answer_tokens, "stop")

    again, _, _ = await collect(backend.stream(SKY, GREEDY))
    assert again == base


async def test_stop_sequences_end_the_answer_before_them(backend, taught):
    text, _, finished = await collect(
        backend.stream(SKY, Params(24, 0.0, stop=("never", "y is b")), adapter=taught)
    )
    assert (text, finished.finish_reason) == ("The sk", "stop")
    assert finished.completion_tokens < len(backend._encode(ANSWER)) + 1

    text, _, _ = await collect(
        backend.stream(SKY, Params(24, 0.0, stop=("blue!",)), adapter=taught)
    )
    assert text == ANSWER


async def test_least_recently_used_adapter_is_evicted(tiny, tmp_path, taught, scrambler):
    local = await asyncio.to_thread(LocalModel.load, str(tiny), tmp_path, adapter_limit=1)
    backend = LocalBackend(local)
    try:
        assert (await collect(backend.stream(SKY, GREEDY, adapter=taught)))[0] == ANSWER
        noisy, _, _ = await collect(backend.stream(SKY, GREEDY, adapter=scrambler))
        assert noisy != ANSWER
        assert backend.adapters.loaded == ["noise-v1"]

        assert (await collect(backend.stream(SKY, GREEDY, adapter=taught)))[0] == ANSWER
        assert backend.adapters.loaded == ["sky-v1"]
    finally:
        await backend.close()


async def test_a_missing_adapter_is_a_readable_error(backend, tmp_path):
    gone = Adapter("gone-v3", tmp_path / "gone")
    with pytest.raises(BackendError) as caught:
        await collect(backend.stream(SKY, GREEDY, adapter=gone))
    assert caught.value.reason == "not_found" and "gone-v3" in caught.value.sentence


async def until_heard(places: dict[str, list[int]], who: str) -> None:
    await until(lambda: places[who], timeout=30, what=f"{who} to hear its place in the queue")


@asynccontextmanager
async def occupied(model: Path, tmp_path: Path, **load) -> AsyncIterator[tuple[LocalBackend, Any]]:
    """A backend on `model` and the long answer that keeps its worker busy, already under
    way; the test closes the long answer when it wants the worker free (it is closed at the
    end in any case)."""
    local = await asyncio.to_thread(LocalModel.load, str(model), tmp_path, **load)
    backend = LocalBackend(local)
    long = backend.stream(SKY, Params(max_tokens=2000, temperature=0))
    try:
        await first_piece(long)
        yield backend, long
    finally:
        await long.aclose()
        await backend.close()


async def queued(
    backend: LocalBackend, places: dict[str, list[int]], who: str, **params
) -> asyncio.Task:
    """A short answer that waits behind the long one, once it has heard its first place in
    the queue (in `places[who]`)."""
    stream = backend.stream(SKY, Params(3, 0.0, **params), on_wait=places[who].append)
    task = asyncio.create_task(collect(stream))
    await until_heard(places, who)
    return task


async def test_a_full_queue_turns_requests_away_and_waiters_hear_their_place(endless, tmp_path):
    async with occupied(endless, tmp_path, queue_limit=2) as (backend, long):
        places: dict[str, list[int]] = {"second": [], "third": []}
        second = await queued(backend, places, "second")  # queued first, before the third asks
        third = await queued(backend, places, "third")
        assert places == {"second": [1], "third": [2]}

        with pytest.raises(BackendBusy) as caught:
            await anext(backend.stream(SKY, Params(3, 0.0)))
        assert caught.value.reason == "busy" and caught.value.retry_after_s >= 1

        await long.aclose()
        assert (await second)[2].completion_tokens == 3
        assert (await third)[2].completion_tokens == 3
        assert places["third"] == [2, 1]


async def test_a_persons_question_goes_ahead_of_a_benchmarks(endless, tmp_path):
    async with occupied(endless, tmp_path) as (backend, long):
        places: dict[str, list[int]] = {"bench": [], "person": []}
        bench = await queued(backend, places, "bench", background=True)
        person = await queued(backend, places, "person")
        assert places == {"bench": [1, 2], "person": [1]}
        finished: list[str] = []
        bench.add_done_callback(lambda _: finished.append("bench"))
        person.add_done_callback(lambda _: finished.append("person"))
        await long.aclose()
        await asyncio.gather(bench, person)
        assert finished == ["person", "bench"]


async def test_closing_a_stream_frees_the_worker_within_a_token(endless, tmp_path):
    async with occupied(endless, tmp_path) as (backend, long):
        places: dict[str, list[int]] = {"next": []}
        next_one = asyncio.create_task(
            first_piece(backend.stream(SKY, Params(5, 0.0), on_wait=places["next"].append))
        )
        await until_heard(places, "next")
        assert places["next"] == [1] and not next_one.done()

        # The model's forward passes, by the length of what each reads: the long answer's are
        # one token each; the next answer's first reads its whole prompt.
        reads: list[int] = []

        def read(_module, args, kwargs) -> None:
            ids = kwargs["input_ids"] if kwargs.get("input_ids") is not None else args[0]
            reads.append(ids.shape[1])

        hook = backend.local.model.register_forward_pre_hook(read, with_kwargs=True)
        try:
            await until(lambda: reads, what="the long answer to go on")
            closed_at = len(reads)
            await long.aclose()
            await asyncio.wait_for(next_one, timeout=60)
        finally:
            hook.remove()
        after_close = reads[closed_at:]
        prompt_at = next(i for i, n in enumerate(after_close) if n > 1)
        # The long answer (2,000 tokens asked) read at most the token or two in flight as it
        # was closed, and then the next answer had the worker.
        assert after_close[:prompt_at] in ([], [1], [1, 1]), after_close[:prompt_at]


async def test_sampling_respects_the_token_budget(backend):
    _, _, finished = await collect(backend.stream(SKY, Params(8, temperature=1.2, top_p=0.5)))
    assert finished.completion_tokens <= 8 and finished.finish_reason in ("stop", "length")


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        (Params(max_tokens=0), "max_tokens"),
        (Params(temperature=-0.1), "temperature"),
        (Params(temperature=2.5), "temperature"),
        (Params(top_p=0), "top_p"),
        (Params(top_p=1.5), "top_p"),
        (Params(stop=("",)), "stop"),
    ],
)
async def test_bad_generation_parameters_are_refused_with_a_reason(backend, params, complaint):
    with pytest.raises(ValueError, match=complaint):
        await anext(backend.stream(SKY, params))


async def test_an_overlong_conversation_is_refused(backend):
    story = [{"role": "user", "content": "sheep " * 5000}]
    with pytest.raises(ValueError, match="tokens long"):
        await anext(backend.stream(story, GREEDY))


def test_a_missing_model_folder_names_the_path(tmp_path):
    with pytest.raises(BackendError) as caught:
        LocalModel.load(str(tmp_path / "no-such-model"), tmp_path)
    assert caught.value.reason == "model" and "no-such-model" in caught.value.sentence


def test_multibyte_characters_are_never_split_across_pieces():
    tokenizer = build_tokenizer()
    text = "Caf\u00e9 \u2603 \u00fcber \U0001f41d na\u00efve"
    decoder = IncrementalDecoder(tokenizer)
    pieces = [decoder.push(i) for i in tokenizer.encode(text, add_special_tokens=False)]
    pieces.append(decoder.flush())

    assert "".join(pieces) == text
    assert not any("\ufffd" in piece for piece in pieces)


def test_a_stop_sequence_split_over_pieces_is_caught_and_held_back():
    scanner = StopScanner(("STOP",))
    shown = [scanner.feed(piece) for piece in ("abc S", "T", "xO", " S", "TO", "P tail")]

    assert "".join(shown) == "abc STxO "
    assert scanner.hit and scanner.flush() == ""
