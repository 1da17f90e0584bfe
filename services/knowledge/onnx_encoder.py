"""Sentence embeddings from a converted model (`onnx_export`): ONNX Runtime on the CPU, the
tokenizer from its `tokenizer.json`, pooling in numpy — neither torch nor
sentence-transformers is imported, so a service whose model is converted already starts
without them.

It reproduces what sentence-transformers does around the network: the same tokenizer with
the model's own maximum length (not the 128 its `tokenizer.json` may say), the pooling the
model was trained with, then unit length.

Each text runs through the network alone, one text per core at a time, rather than in padded
batches. Dynamic quantization scales a matrix product's activations by the largest value in
the whole batch, so in a batch a text's vector depended on the texts beside it (and on their
padding); alone, a text always gets the same vector, whether it is indexed among a thousand
chunks or asked as a query. It is also less work: no padding is computed, and one text per
single-threaded run keeps both cores busy without the threads of one run waiting on each
other (measured: 4.5 s of CPU for 256 chunks alone, 6.8 s in batches of 64, 10.7 s torch).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from runtime.cpus import cores

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


class OnnxEncoder:
    def __init__(self, folder: Path, manifest: dict, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one text per core: see the module's notes
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: the optimiser's notes are not news
        self.session = ort.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = tuple(i.name for i in self.session.get_inputs())
        self.pooling = manifest["pooling"]
        self.lower_case = bool(manifest.get("lower_case", False))
        self.dimensions = int(manifest["dimensions"])
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(max_length=int(manifest["max_length"]))
        self.tokenizer.no_padding()
        self._pool = ThreadPoolExecutor(threads or cores(), thread_name_prefix="embed")

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text, in the order of `texts`.

        `batch_size` is accepted for the torch route's sake; every text runs alone."""
        texts = [t.strip().lower() if self.lower_case else t.strip() for t in texts]
        encodings = self.tokenizer.encode_batch(texts)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        longest_first = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        vectors = self._pool.map(lambda i: self._one(encodings[i]), longest_first)
        for i, vector in zip(longest_first, vectors, strict=True):
            out[i] = vector
        return out

    def _one(self, encoding) -> np.ndarray:
        feeds = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        (tokens,) = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})
        vector = tokens[0, 0] if self.pooling == "cls" else tokens[0].mean(axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)
