"""A version's examples and rejections as JSONL objects in the `datasets` bucket, named by
their sha256 (the same examples are the same object), read back through a small cache;
and the base model's tokenizer, which the data rules count with."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import msgspec

from contracts.base import ObjectRef
from contracts.dataset import BUCKET, Rejection, TrainingExample
from runtime.lru import Lru
from runtime.models import load_tokenizer
from runtime.objects import Objects
from runtime.settings import Settings
from services.dataset.exports import from_jsonl, to_jsonl

CACHED_VERSIONS = 16
_rejection = msgspec.json.Encoder()
_rejections = msgspec.json.Decoder(Rejection)


class Content:
    def __init__(self, objects: Objects, settings: Settings) -> None:
        self.objects, self.settings = objects, settings
        self._cache: Lru[tuple[str, str], list[TrainingExample]] = Lru(CACHED_VERSIONS)
        self._count: Callable[[str], int] | None = None
        self._loading = asyncio.Lock()

    async def put_examples(
        self, tenant: str, expert_id: str, examples: list[TrainingExample]
    ) -> ObjectRef:
        data = to_jsonl(examples)
        return await self._put(tenant, expert_id, data, "examples.jsonl")

    async def put_rejections(
        self, tenant: str, expert_id: str, rejections: list[Rejection]
    ) -> ObjectRef:
        data = b"".join(_rejection.encode(r) + b"\n" for r in rejections)
        return await self._put(tenant, expert_id, data, "rejections.jsonl")

    async def put_export(self, tenant: str, ref: ObjectRef, name: str, data: bytes) -> ObjectRef:
        return await self.objects.put(BUCKET, f"{ref.name}.{name}", data, tenant=tenant)

    async def _put(self, tenant: str, expert_id: str, data: bytes, kind: str) -> ObjectRef:
        sha = hashlib.sha256(data).hexdigest()
        name = f"{tenant}/{expert_id}/{sha}.{kind}"
        return await self.objects.put(BUCKET, name, data, tenant=tenant, known=(sha, len(data)))

    async def examples(self, tenant: str, ref: ObjectRef) -> list[TrainingExample]:
        async def load() -> list[TrainingExample]:
            return from_jsonl(await self.objects.get(ref, tenant=tenant))

        # keyed by tenant too: one tenant's cached examples never answer another's
        return await self._cache.get((tenant, ref.sha256), load)

    async def rejections(self, tenant: str, ref: ObjectRef) -> list[Rejection]:
        data = await self.objects.get(ref, tenant=tenant)
        return [_rejections.decode(line) for line in data.splitlines() if line.strip()]

    async def token_counter(self) -> Callable[[str], int]:
        """Token counts with the base model's own tokenizer (loaded once, in a thread)."""
        async with self._loading:
            if self._count is None:
                s = self.settings
                tokenizer = await asyncio.to_thread(load_tokenizer, s.base_model, s.home)
                self._count = lambda text: len(tokenizer.encode(text, add_special_tokens=False))
            return self._count
