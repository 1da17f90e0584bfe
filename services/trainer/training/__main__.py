"""`python -m services.trainer.training JOB.json`: train one LoRA adapter as the job says,
reporting on stdout one JSON object a line (see `report`); exit 0 on success, 1 after an
"error" line (or a crash, whose traceback is on stderr)."""

from __future__ import annotations

import importlib
import os
import sys

BACKENDS = {
    "peft": "services.trainer.training.peft_run",
    "unsloth": "services.trainer.training.unsloth_run",
    "axolotl": "services.trainer.training.axolotl_run",
}


def main(argv: list[str]) -> int:
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[name] = "1"  # never download anything
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from services.trainer.training.report import Reporter, claim_stdout

    reporter = Reporter(claim_stdout())
    if len(argv) != 1:
        print("usage: python -m services.trainer.training JOB.json", file=sys.stderr)
        return 2
    from services.trainer.training.data import read_examples
    from services.trainer.training.job import JobFailed, load_job

    try:
        job = load_job(argv[0])
        train = read_examples(job.train_path, "training")
        val = read_examples(job.val_path, "validation")
        if not train:
            raise JobFailed("The training data has no examples.")
        backend = importlib.import_module(BACKENDS[job.backend])
        if hasattr(backend, "check"):
            backend.check()
        quiet_libraries()
        backend.run(job, train, val, reporter)
    except JobFailed as failure:
        reporter.error(str(failure))
        return 1
    return 0


def quiet_libraries() -> None:
    """Progress bars off; library logs stay on stderr at warning level."""
    import datasets
    import transformers
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_warning()
    transformers.logging.disable_progress_bar()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
