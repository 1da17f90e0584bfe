"""Embeddings for the expert service, from the knowledge service (an `Embed` query), whose
model indexed the passages an answer is judged against: in batches it accepts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contracts.knowledge import MAX_EMBED_TEXT, MAX_EMBED_TEXTS, Embed
from runtime.rpc import ask

EMBED_TIMEOUT_S = 60.0


async def embed(nc, texts: Sequence[str], *, timeout: float = EMBED_TIMEOUT_S) -> np.ndarray:
    """One row per text, in order (float32, unit length); a failure raises the query's
    DomainError."""
    rows: list[np.ndarray] = []
    for start in range(0, len(texts), MAX_EMBED_TEXTS):
        batch = [t[:MAX_EMBED_TEXT] for t in texts[start : start + MAX_EMBED_TEXTS]]
        reply = await ask(nc, Embed(texts=batch), timeout=timeout)
        rows.append(np.frombuffer(reply.vectors, dtype=np.float32).reshape(-1, reply.dimensions))
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
