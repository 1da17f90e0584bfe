"""The embedder (the real offline model from its wheel): batching must never mix up rows."""

import numpy as np
import pytest

pytestmark = pytest.mark.integration


async def test_batched_embeddings_come_back_in_the_order_of_the_texts(embedder):
    texts = [("word " * n).strip() + f" topic {n}" for n in (3, 90, 1, 40, 7, 200, 15)]
    progress = []

    async def on_batch(done, total):
        progress.append((done, total))

    embedder.batch_size, saved = 2, embedder.batch_size
    try:
        batched = await embedder.embed(texts, on_batch)
    finally:
        embedder.batch_size = saved
    one_by_one = np.vstack([embedder.encode([t]) for t in texts])
    assert batched.shape == (7, embedder.dimensions)
    assert np.allclose(batched, one_by_one, atol=1e-4)
    assert progress[-1] == (7, 7) and len(progress) == 4
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-4)
