"""A sentence-transformers model converted to int8 ONNX, once, for `onnx_encoder`.

Why: on the CPU the embedder was nearly all of an ingest (37 of 39 s for 300 pages). The
same network run by ONNX Runtime with int8 matrix products, one text at a time per core
(`onnx_encoder`), embeds the same chunks in about 40 % of torch's CPU time here
(docs/benchmarks.md, "embedder — ONNX int8").

How: the transformer is exported with torch's TorchScript exporter (eager attention, so
ONNX Runtime's optimiser can fuse each attention block into one operator), fused for BERT
models, then the weights of its matrix products quantized to int8 per output channel
(dynamic quantization: activations are quantized run by run; the encoder runs each text
alone). Measured on this model (cosine to the torch vectors): one scale per matrix lost too
much (0.95 on average), per channel kept 0.994; leaving the fused attention's input
projection in float as well brings a two-letter text from 0.966 to 0.982 and the average to
0.996 for about a sixth more time, and kept page-labelled retrieval exactly torch's.

The result is checked before it is kept: probe texts are embedded both ways, and a
conversion whose vectors stray from torch's (cosine below `MIN_PROBE_COSINE`) is refused,
so the embedder falls back to torch instead of serving worse vectors. Only models made of a
Transformer, a mean or CLS Pooling and optionally Normalize are converted; anything else is
refused the same way.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from services.knowledge.onnx_encoder import MODEL_FILE, TOKENIZER_FILE, OnnxEncoder

RECIPE = "onnx (torchscript, opset 17) -> bert fusion -> MatMul int8 per channel, v1"
TOOLS = ("onnxruntime", "onnx", "torch", "transformers", "sentence-transformers", "tokenizers")
MIN_PROBE_COSINE = 0.97  # measured: 0.985 at worst, for "OK"; 0.99 for longer texts
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
POOLINGS = ("mean", "cls")

PROBES = (
    "Charge the battery in the supplied charger before first use.",
    "Worker bees protect the queen cells through the winter.",
    "An index speeds up queries that filter or sort on its columns, at the cost of slower "
    "writes and extra disk space.",
    "x <- c(10.4, 5.6, 3.1, 6.4, 21.7)",
    "What does the CHARGE lamp mean when it blinks quickly?",
    "Savepoints let you roll back part of a transaction without abandoning all of it. "
    "The default isolation level is Read Committed, in which each statement sees only data "
    "committed before it began; Repeatable Read gives the whole transaction one snapshot.",
    "Clay soils hold water; earthworms break them down and cover crops keep nitrogen in.",
    "OK",
)


class Unsupported(Exception):
    """This model cannot be served by the ONNX route; the message says why."""


def convert(source: str, out: Path) -> dict:
    """Write `model.onnx` and `tokenizer.json` for the sentence-transformers model in the
    folder `source` into `out`; returns what the encoder needs to know (blocking, seconds)."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        source, device="cpu", model_kwargs={"attn_implementation": "eager"}
    ).eval()
    transformer, pooling = _parts(model)
    tokenizer = transformer.tokenizer
    if tokenizer is None or not getattr(tokenizer, "is_fast", False):
        raise Unsupported("its tokenizer has no fast (tokenizer.json) form")
    inputs = [name for name in INPUTS if name in tokenizer.model_input_names]
    network = transformer.auto_model.eval()
    work = out / "work"
    work.mkdir()
    try:
        exported = work / "exported.onnx"
        _export(torch, network, inputs, exported)
        fused = _fuse(exported, network.config, work / "fused.onnx")
        _quantize(fused, out / MODEL_FILE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tokenizer.backend_tokenizer.save(str(out / TOKENIZER_FILE))
    manifest = {
        "recipe": RECIPE,
        "source": source,
        "pooling": pooling,
        "lower_case": bool(getattr(transformer, "do_lower_case", False)),
        "max_length": int(model.max_seq_length or tokenizer.model_max_length),
        "pad_token": tokenizer.pad_token,
        "pad_token_id": int(tokenizer.pad_token_id),
        "dimensions": int(model.get_embedding_dimension()),
    }
    manifest["probe_min_cosine"] = _check(model, OnnxEncoder(out, manifest, threads=1))
    return manifest


def _parts(model) -> tuple:
    """The model's Transformer and its pooling mode, or Unsupported."""
    kinds = [type(module).__name__ for module in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise Unsupported(f"its modules are {kinds}, not Transformer, Pooling[, Normalize]")
    mode = model[1].get_config_dict().get("pooling_mode")
    if mode not in POOLINGS:
        raise Unsupported(f"its pooling is {mode!r}, not one of {POOLINGS}")
    return model[0], mode


def _export(torch, network, inputs: list[str], path: Path) -> None:
    class Tokens(torch.nn.Module):
        """The network with positional inputs in a fixed order, returning token vectors."""

        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, *tensors):
            return self.network(**dict(zip(inputs, tensors, strict=True))).last_hidden_state

    example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in inputs)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*inputs, "tokens"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(
            Tokens(),
            example,
            str(path),
            dynamo=False,  # the TorchScript exporter: a second, no extra packages
            input_names=inputs,
            output_names=["tokens"],
            dynamic_axes=axes,
            opset_version=17,
        )


def _fuse(exported: Path, config, path: Path) -> Path:
    """ONNX Runtime's BERT fusions (attention, layer norm, GELU), for BERT models; any other
    architecture, or a fusion that fails, goes on unfused (slower, as correct)."""
    if getattr(config, "model_type", None) != "bert":
        return exported
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        fused = optimize_model(
            str(exported),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=0,
        )
        fused.save_model_to_file(str(path))
    except Exception:
        return exported
    return path


def _quantize(model: Path, path: Path) -> None:
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_log():
        quantize_dynamic(
            str(model),
            str(path),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],  # not the fused Attention (see the module's notes)
            # Fused operators carry no inferred types; their outputs are float.
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )


@contextmanager
def _quiet_root_log():
    """The quantizer advises a pre-processing step, which this recipe does without, straight
    on the root logger; keep that line out of the service's log (and only that line)."""
    root = logging.getLogger()
    advice = logging.Filter()
    advice.filter = lambda record: "pre-processing before quantization" not in str(record.msg)
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


def _check(model, encoder: OnnxEncoder) -> float:
    reference = model.encode(
        list(PROBES), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    worst = float(np.min(np.sum(encoder.encode(list(PROBES)) * reference, axis=1)))
    if not worst >= MIN_PROBE_COSINE:
        raise Unsupported(
            f"its int8 vectors stray from torch's (cosine {worst:.4f} < {MIN_PROBE_COSINE})"
        )
    return worst
