"""The GPU backend: Unsloth's FastLanguageModel, the base model loaded in 4 bits (QLoRA),
a LoRA on the attention projections, trained by the same `fit` as the PEFT backend (same
callbacks, same protocol, same files). Needs a CUDA GPU and `pip install 'simtune[gpu]'`;
it cannot run on a CPU-only machine, where `check` sends the "error" line."""

from __future__ import annotations

import importlib.util

from services.trainer.training.job import JobFailed, TrainingJob, model_unloadable
from services.trainer.training.report import Reporter

NEEDS = (
    "The unsloth backend needs a CUDA GPU and the optional GPU packages"
    " (pip install 'simtune[gpu]')."
)


def check() -> None:
    """Fail early, before any data or model is read; import unsloth first, before
    transformers, TRL and PEFT, so that its patches apply."""
    if importlib.util.find_spec("unsloth") is None:
        raise JobFailed(NEEDS)
    import torch

    if not torch.cuda.is_available():
        raise JobFailed(NEEDS)
    import unsloth  # noqa: F401


def run(job: TrainingJob, train: list, val: list, reporter: Reporter) -> None:
    from unsloth import FastLanguageModel

    from services.trainer.training import plan
    from services.trainer.training.fit import fit
    from services.trainer.training.peft_run import check_tokenizer

    context = job.config.max_seq_length
    try:
        model, tokenizer = FastLanguageModel.from_pretrained(
            model_name=job.model_path,
            max_seq_length=context,
            dtype=None,  # bf16 where the GPU has it, else fp16
            load_in_4bit=True,
            use_exact_model_name=True,  # a local folder, never a pre-quantised download
            local_files_only=True,
        )
    except Exception as exc:  # any loader error means the same thing to the person
        raise model_unloadable(job.model_path) from exc
    check_tokenizer(tokenizer)
    model = FastLanguageModel.get_peft_model(
        model,
        r=job.config.lora_rank,
        lora_alpha=job.config.lora_alpha,
        lora_dropout=job.config.lora_dropout,
        target_modules=list(plan.ATTENTION),
        bias="none",
        use_gradient_checkpointing="unsloth",  # Unsloth's own, instead of the Trainer's
        random_state=job.config.seed,
    )
    fit(
        job, train, val, model, tokenizer, reporter,
        device="cuda",
        overrides={"gradient_checkpointing": False, "full_determinism": False},
    )  # fmt: skip
