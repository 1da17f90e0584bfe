"""A worker child (a document reader, a training process) gets what Python, its libraries and
the accelerator need, and none of the service's secrets or addresses."""

from runtime.child_env import child_env

SERVICE = {
    "PATH": "/usr/bin",
    "HOME": "/home/simtune",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONPATH": "/srv/simtune",
    "HF_HOME": "/models",
    "OMP_NUM_THREADS": "2",
    "OPENBLAS_CORETYPE": "Haswell",
    "CUDA_VISIBLE_DEVICES": "0",
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
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/simtune",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": "/srv/simtune",
        "HF_HOME": "/models",
        "OMP_NUM_THREADS": "2",
        "OPENBLAS_CORETYPE": "Haswell",
        "CUDA_VISIBLE_DEVICES": "0",
        "HF_HUB_OFFLINE": "1",
    }
    assert not any(secret in str(env) for secret in ("hunter2", "sk-live", "hf_abc", "k" * 44))
