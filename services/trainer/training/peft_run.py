"""The default backend: the model in full precision on the CPU (or bf16/fp16 on a CUDA GPU
when there is one), a LoRA on its attention projections, trained by `fit`."""

from __future__ import annotations

from services.trainer.training import plan
from services.trainer.training.fit import fit
from services.trainer.training.job import JobFailed, TrainingJob, model_unloadable
from services.trainer.training.report import Reporter


def run(job: TrainingJob, train: list, val: list, reporter: Reporter) -> None:
    import torch
    from peft import LoraConfig

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if job.threads:
        torch.set_num_threads(job.threads)
    dtype = torch.float32
    if device == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    model, tokenizer = load_model(job.model_path, dtype)
    lora = LoraConfig(
        r=job.config.lora_rank,
        lora_alpha=job.config.lora_alpha,
        lora_dropout=job.config.lora_dropout,
        target_modules=plan.target_modules({name for name, _ in model.named_modules()}),
        bias="none",
        task_type="CAUSAL_LM",
    )
    fit(job, train, val, model, tokenizer, reporter, device=device, peft_config=lora)


def load_model(path: str, dtype):
    """The model and its tokenizer from a local folder (never the network); a folder that
    will not load, or a tokenizer without a chat template, is a JobFailed."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    except Exception as exc:  # any loader error means the same thing to the person
        raise model_unloadable(path) from exc
    check_tokenizer(tokenizer)
    return model, tokenizer


def check_tokenizer(tokenizer) -> None:
    if not tokenizer.chat_template:
        raise JobFailed(
            "The base model has no chat template, so it cannot learn from conversations."
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
