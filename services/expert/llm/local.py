"""The local backend: one worker thread generates for every request, first come first served.

The model uses every core for a single generation, so running two at once only makes both
slower; requests wait in a bounded FIFO instead (`LocalModel.queue_limit`), and a request
that finds it full is turned away at once with `BackendBusy`. Tokens travel from the worker
to the asyncio side as they are produced. A consumer that goes away (`aclose()`, a cancelled
task) sets a flag the generation checks after every token, so the worker is free again
within one token's time.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from runtime.logs import get_logger
from services.expert.llm.adapters import AdapterCache
from services.expert.llm.base import (
    Adapter,
    Backend,
    BackendBusy,
    BackendError,
    Finished,
    Message,
    Params,
    Piece,
    plain_prompt,
)
from services.expert.llm.local_model import LocalModel
from services.expert.llm.text_stream import IncrementalDecoder, StopScanner

log = get_logger(__name__)

FIRST_GUESS_S = 10.0  # how long a generation takes, until one has been timed


@dataclass(frozen=True)
class _Position:
    place: int  # 1 = next


@dataclass(eq=False)
class _Job:
    prompt_ids: list[int]
    params: Params
    adapter: Adapter | None
    loop: asyncio.AbstractEventLoop
    out: asyncio.Queue = field(default_factory=asyncio.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    stop_hit: bool = False

    def send(self, item: Piece | Finished | _Position | BackendError) -> None:
        """Hand an item to the asyncio side (from any thread)."""
        try:
            self.loop.call_soon_threadsafe(self.out.put_nowait, item)
        except RuntimeError:  # the event loop is gone, and with it whoever was listening
            self.cancelled.set()


class LocalBackend(Backend):
    kind = "local"

    def __init__(self, local: LocalModel):
        self.local = local
        self.model = local.name
        self.queue_limit = local.queue_limit
        self.adapters = AdapterCache(local.model, local.adapter_limit)
        self.closed = False
        self._tokenizer = local.tokenizer
        self._eos = _eos_ids(local)
        self._pad_id = self._tokenizer.pad_token_id
        if self._pad_id is None:
            self._pad_id = min(self._eos, default=None)
        self._waiting: deque[_Job] = deque()
        self._running: _Job | None = None
        self._changed = threading.Condition()
        self._seconds_per_job = FIRST_GUESS_S
        self._worker = threading.Thread(target=self._work, name="simtune-generate", daemon=True)
        self._worker.start()

    # -- the Backend interface -------------------------------------------------------------

    async def _answer(self, messages, params, adapter, on_wait) -> AsyncIterator[Piece | Finished]:
        prompt_ids = await asyncio.to_thread(self._encode, self.render_prompt(messages))
        room = self.context_tokens() - len(prompt_ids)
        if room < 1:
            raise ValueError(
                f"The conversation is {len(prompt_ids)} tokens long; the model reads at most "
                f"{self.context_tokens()}. Shorten it or start a new one."
            )
        params = replace(params, max_tokens=min(params.max_tokens, room))
        job = _Job(prompt_ids, params, adapter, asyncio.get_running_loop())
        self._enqueue(job)
        try:
            while True:
                item = await job.out.get()
                if isinstance(item, _Position):
                    if on_wait is not None:
                        on_wait(item.place)
                    continue
                if isinstance(item, BackendError):
                    raise item
                yield item
                if isinstance(item, Finished):
                    return
        finally:
            self._withdraw(job)

    def count_tokens(self, text: str) -> int:
        return len(self._encode(text))

    def context_tokens(self) -> int:
        config = self.local.model.config
        return int(
            getattr(config, "max_position_embeddings", 0) or self._tokenizer.model_max_length
        )

    def render_prompt(self, messages: list[Message]) -> str:
        if not self._tokenizer.chat_template:
            return plain_prompt(messages) + "\n\nassistant: "
        return self._tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    async def check(self) -> float:
        started = time.perf_counter()
        async for _ in self.stream([{"role": "user", "content": "Hi"}], Params(1, 0.0)):
            pass
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        """Stop the worker: the running generation is cancelled, waiting requests fail."""
        with self._changed:
            self.closed = True
            if self._running is not None:
                self._running.cancelled.set()
            for job in self._waiting:
                job.send(BackendError("model", "The local model is shutting down; ask again."))
            self._waiting.clear()
            self._changed.notify_all()
        await asyncio.to_thread(self._worker.join)

    # -- the queue -------------------------------------------------------------------------

    def _enqueue(self, job: _Job) -> None:
        with self._changed:
            if self.closed:
                raise BackendError("model", "The local model has shut down; restart Simtune.")
            if len(self._waiting) >= self.queue_limit:
                wait_s = max(1, math.ceil(self._seconds_per_job * (len(self._waiting) + 1)))
                raise BackendBusy(
                    f"The local model is busy with {len(self._waiting) + 1} questions; "
                    f"try again in about {wait_s} seconds.",
                    retry_after_s=wait_s,
                )
            place = self._place_for(job)
            self._waiting.insert(place, job)
            if self._running is not None or len(self._waiting) > 1:
                for n, moved in enumerate(list(self._waiting)[place:], start=place + 1):
                    moved.send(_Position(n))  # the new job, and those it went ahead of
            self._changed.notify_all()

    def _place_for(self, job: _Job) -> int:
        """Where a job waits: a person's question ahead of every benchmark's."""
        if job.params.background:
            return len(self._waiting)
        return next(
            (i for i, w in enumerate(self._waiting) if w.params.background), len(self._waiting)
        )

    def _withdraw(self, job: _Job) -> None:
        """The consumer is done with `job`: stop it if it runs, drop it if it waits."""
        job.cancelled.set()
        with self._changed:
            if job in self._waiting:
                self._waiting.remove(job)
                self._announce_positions()

    def _announce_positions(self) -> None:
        for place, waiting in enumerate(self._waiting, start=1):
            waiting.send(_Position(place))

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self.closed:
                    self._changed.wait()
                if self.closed:
                    return
                job = self._running = self._waiting.popleft()
                self._announce_positions()
            started = time.perf_counter()
            try:
                self._generate(job)
            except BackendError as exc:
                job.send(exc)
            except Exception:
                log.exception("local generation failed", model=self.model)
                job.send(
                    BackendError(
                        "model",
                        "The local model failed while answering; the service log has the details.",
                    )
                )
            finally:
                with self._changed:
                    self._running = None
                self._seconds_per_job = 0.7 * self._seconds_per_job + 0.3 * (
                    time.perf_counter() - started
                )

    # -- generation (worker thread) --------------------------------------------------------

    def _generate(self, job: _Job) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        decoder = IncrementalDecoder(self._tokenizer)
        stops = StopScanner(job.params.stop)

        class Sink(BaseStreamer):
            prompt_seen = False

            def put(self, value) -> None:
                if not self.prompt_seen:  # generate() hands over the prompt first
                    self.prompt_seen = True
                    return
                text = stops.feed(decoder.push(int(value.reshape(-1)[0])))
                if text:
                    job.send(Piece(text))
                job.stop_hit = stops.hit

            def end(self) -> None:
                pass

        class Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                done = job.stop_hit or job.cancelled.is_set()
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool)

        if job.cancelled.is_set():
            return
        ids = torch.tensor([job.prompt_ids])
        with self.adapters.using(job.adapter) as model, torch.inference_mode():
            output = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=job.params.max_tokens,
                streamer=Sink(),
                stopping_criteria=StoppingCriteriaList([Halt()]),
                pad_token_id=self._pad_id,
                **_sampling(job.params),
            )
        generated = output[0, ids.shape[1] :].tolist()
        if job.cancelled.is_set():
            return
        tail = stops.feed(decoder.flush())
        tail += stops.flush()
        if tail:
            job.send(Piece(tail))
        job.send(Finished(len(job.prompt_ids), len(generated), self._finish_reason(job, generated)))

    def _finish_reason(self, job: _Job, generated: list[int]) -> str:
        if job.stop_hit or (generated and generated[-1] in self._eos):
            return "stop"
        return "length" if len(generated) >= job.params.max_tokens else "stop"

    def _encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False)


def _sampling(params: Params) -> dict:
    if params.temperature == 0:
        return {"do_sample": False}
    return {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p, "top_k": 0}


def _eos_ids(local: LocalModel) -> set[int]:
    """The tokens that end a generation: those `generate` stops on, nothing more."""
    eos = local.model.generation_config.eos_token_id
    if eos is None:
        return set()
    return set(eos) if isinstance(eos, list) else {eos}
