"""A worker child (a document reader, a training process) gets what Python, its libraries and
the accelerator need, and none of the service's secrets or addresses."""

from runtime.child_env import child_env

# What a child runs with: kept as the service has it.
KEPT = {
    "PATH": "/usr/bin",
    "HOME": "/home/simtune",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONPATH": "/srv/simtune",
    "HF_HOME": "/models",
    "OMP_NUM_THREADS": "2",
    "OPENBLAS_CORETYPE": "Haswell",
    "CUDA_VISIBLE_DEVICES": "0",
}
SERVICE = {
    **KEPT,
    "SIMTUNE_SECRET_KEY": "k" * 44,
    "SIMTUNE_HOME": "/var/lib/simtune",
    "DATABASE_URL": "postgresql://simtune:hunter2@db/simtune",
    "NATS_URL": "nats://user:pass@nats:4222",
    "OPENAI_API_KEY": "sk-live-123",
    "HF_TOKEN": "hf_abc",
    "AWS_SECRET_ACCESS_KEY": "aws",
}


def test_a_child_gets_what_it_runs_with_and_no_secret_or_address():
    env = child_env(SERVICE, HF_HUB_OFFLINE="1")
    assert env == {**KEPT, "HF_HUB_OFFLINE": "1"}
    assert not any(secret in str(env) for secret in ("hunter2", "sk-live", "hf_abc", "k" * 44))


def test_training_leaves_a_core_for_answering_unless_told_otherwise(monkeypatch):
    from runtime import child_env as module

    monkeypatch.setattr(module, "cores", lambda: 8)
    assert module.training_threads() == 7
    assert module.training_threads(3) == 3
    assert module.training_threads(64) == 8  # never more than the cores
    monkeypatch.setattr(module, "cores", lambda: 1)
    assert module.training_threads() == 1
    caps = module.thread_caps(2)
    assert caps["OMP_NUM_THREADS"] == caps["MKL_NUM_THREADS"] == "2"


def test_a_lowered_child_runs_below_its_parent():
    import os
    import subprocess
    import sys

    from runtime.child_env import lowered

    script = (
        "import ctypes, os; signal = ctypes.c_int();"
        " ctypes.CDLL(None).prctl(2, ctypes.byref(signal));"  # PR_GET_PDEATHSIG
        " print(os.getpriority(os.PRIO_PROCESS, 0), signal.value)"
    )
    said = subprocess.run(
        [sys.executable, "-c", script],
        preexec_fn=lowered(5),
        capture_output=True,
        text=True,
        check=True,
    )
    nice, death_signal = map(int, said.stdout.split())
    assert nice == min(os.getpriority(os.PRIO_PROCESS, 0) + 5, 19)
    assert death_signal == 9  # SIGKILL when its parent dies


def test_the_training_limits_are_checked_when_read():
    import pytest

    from runtime.settings import SettingsError, load_settings

    assert load_settings({}).train_nice == 10 and load_settings({}).train_threads == 0
    for bad in ({"SIMTUNE_TRAIN_NICE": "20"}, {"SIMTUNE_TRAIN_THREADS": "-1"},
                {"SIMTUNE_TRAIN_NICE": "high"}):  # fmt: skip
        with pytest.raises(SettingsError):
            load_settings(bad)
