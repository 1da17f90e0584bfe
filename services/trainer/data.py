"""A run's data: the dataset version it trains on, as chat JSONL, and what it will cost.

The examples come from the version's JSONL object in the `datasets` bucket (its sha256 is
checked on read), so a run trains on exactly what the person reviewed. Tokens are counted
with the base model's tokenizer for a local run; a hosted provider's tokenizer is not here,
so its estimate counts cautiously (`cautious_tokens`): it errs high, never low, as a cost
held against a budget must.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections import OrderedDict

import msgspec

from contracts.base import DomainError, ErrorCode, ObjectRef
from contracts.dataset import DatasetView, GetDataset, ListDatasets, TrainingExample
from contracts.trainer import Estimate, TrainConfig
from runtime.models import load_tokenizer
from runtime.objects import Objects
from runtime.rpc import ask, not_found
from runtime.settings import Settings

CHARS_PER_TOKEN = 4  # English text, roughly
BYTES_PER_TOKEN = 3  # what no tokenizer packs tighter: a CJK character (3 bytes) is a token


def cautious_tokens(text: str) -> int:
    """Tokens `text` may take when no tokenizer of the model is at hand, erring high: four
    characters a token holds for English, but Cyrillic, Greek or CJK text takes two to four
    times that, so the count is never below one token for every three bytes of UTF-8."""
    return -(-max(len(text) // CHARS_PER_TOKEN, len(text.encode("utf-8"))) // BYTES_PER_TOKEN)


DEFAULT_LOCAL_TOKENS_PER_S = 300.0  # before any local run has measured this machine
_examples = msgspec.json.Decoder(TrainingExample)
_line = msgspec.json.Encoder()


class Data(msgspec.Struct, frozen=True):
    train: bytes  # chat JSONL: {"messages": [...]} a line
    val: bytes
    train_examples: int
    val_examples: int
    cautious_tokens: int  # what the examples' text may take, erring high (no tokenizer at hand)


async def ready_dataset(nc, tenant: str, expert_id: str, dataset_id: str | None) -> DatasetView:
    """The version a run trains on (the expert's newest ready one when none is named)."""
    if dataset_id is None:
        listed = await ask(nc, ListDatasets(tenant=tenant, expert_id=expert_id))
        ready = [d for d in listed.datasets if d.status == "ready"]
        if not ready:
            raise DomainError(
                ErrorCode.NOT_ENOUGH_DATA,
                "this expert has no ready dataset yet; build one from its documents and answers",
            )
        return ready[0]
    try:
        view = await ask(nc, GetDataset(tenant=tenant, dataset_id=dataset_id))
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise not_found(f"dataset {dataset_id}") from exc
        raise
    if view.expert_id != expert_id:
        raise not_found(f"dataset {dataset_id} of expert {expert_id}")
    if view.status != "ready" or view.content is None:
        raise DomainError(
            ErrorCode.CONFLICT, f"dataset {dataset_id} is {view.status}; a run needs a ready one"
        )
    return view


def check_enough(view: DatasetView, minimum: int) -> None:
    total = view.train_examples + view.val_examples
    if total < minimum:
        raise DomainError(
            ErrorCode.NOT_ENOUGH_DATA,
            f"dataset {view.id} has {total} examples; a run needs at least {minimum}"
            " (FINETUNE_MIN_TRACES). Add examples, rate more answers, or build from more documents",
        )
    if view.train_examples == 0:
        raise DomainError(ErrorCode.NOT_ENOUGH_DATA, f"dataset {view.id} has no training examples")


async def load(objects: Objects, content: ObjectRef, tenant: str) -> Data:
    raw = await objects.get(content, tenant=tenant)
    train, val, tokens = [], [], 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        example = _examples.decode(line)
        messages = [{"role": m.role, "content": m.content} for m in example.messages]
        tokens += sum(cautious_tokens(m["content"]) for m in messages)
        (val if example.split == "val" else train).append(_line.encode({"messages": messages}))
    return Data(
        train=b"\n".join(train) + b"\n" if train else b"",
        val=b"\n".join(val) + b"\n" if val else b"",
        train_examples=len(train),
        val_examples=len(val),
        cautious_tokens=tokens,
    )


def steps_of(config: TrainConfig, train_examples: int) -> int:
    """Optimizer steps of a run: `max_steps` when set (it overrides the epochs, as in the
    training loop), else every epoch's batches."""
    if config.max_steps:
        return config.max_steps
    return epoch_steps(config, train_examples) * config.epochs


def epoch_steps(config: TrainConfig, train_examples: int) -> int:
    return max(
        1, math.ceil(train_examples / (config.batch_size * config.gradient_accumulation_steps))
    )


class TokenCounter:
    """Tokens of chat JSONL under a base model's tokenizer, loaded once, off the loop.

    Loading can take a minute the first time (the bundled model is converted on first use);
    a request does not wait for that: until the tokenizer is there, the count is the
    cautious count (`cautious_tokens`), and the tokenizer goes on loading in the background."""

    WAIT_S = 3.0

    KEPT = 32

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loading: dict[str, asyncio.Task] = {}
        self._counted: OrderedDict[tuple[str, str], int] = OrderedDict()  # exact counts

    async def count(self, base_model: str, chat_jsonl: bytes) -> int:
        task = self._loading.get(base_model)
        if task is None or (task.done() and task.exception() is not None):
            task = asyncio.ensure_future(
                asyncio.to_thread(load_tokenizer, base_model, self.settings.home)
            )
            self._loading[base_model] = task
        key = (base_model, hashlib.sha256(chat_jsonl).hexdigest())
        if key in self._counted:
            self._counted.move_to_end(key)
            return self._counted[key]
        try:
            tokenizer = await asyncio.wait_for(asyncio.shield(task), self.WAIT_S)
        except Exception:  # still loading, or unloadable: the training run will say which
            return cautious_tokens(chat_jsonl.decode("utf-8", "replace"))
        self._counted[key] = await asyncio.to_thread(_count, tokenizer, chat_jsonl)
        if len(self._counted) > self.KEPT:
            self._counted.popitem(last=False)
        return self._counted[key]


def _count(tokenizer, chat_jsonl: bytes) -> int:
    total = 0
    for line in chat_jsonl.splitlines():
        if line.strip():
            messages = msgspec.json.decode(line)["messages"]
            text = "\n".join(m["content"] for m in messages)
            total += len(tokenizer(text)["input_ids"]) + 4 * len(messages)
    return total


def estimate(
    config: TrainConfig,
    backend: str,
    data: Data,
    tokens_per_epoch: int,
    *,
    price_per_million: float | None,
    local_tokens_per_s: float | None,
    budget_usd: float | None,
    spent_usd: float,
) -> Estimate:
    training_tokens = tokens_per_epoch * config.epochs
    total_steps = steps_of(config, data.train_examples)
    hosted = backend == "openai"
    seconds = None
    if not hosted:
        rate = local_tokens_per_s or DEFAULT_LOCAL_TOKENS_PER_S
        if config.max_steps:  # tokens follow the steps taken, whatever the epochs say
            training_tokens = (
                tokens_per_epoch * total_steps // epoch_steps(config, data.train_examples)
            )
        seconds = int(math.ceil(training_tokens / rate))
    cost = round(training_tokens * (price_per_million or 0.0) / 1e6, 4) if hosted else None
    return Estimate(
        backend=backend,
        train_examples=data.train_examples,
        val_examples=data.val_examples,
        tokens_per_epoch=tokens_per_epoch,
        training_tokens=training_tokens,
        total_steps=total_steps,
        cost_usd=cost,
        expected_seconds=seconds,
        budget_usd=budget_usd,
        spent_usd=round(spent_usd, 4),
    )
