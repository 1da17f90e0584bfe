"""The settings of background work: retries and the waits between tries (of a failed job,
of one stopped by an outage, of a view stuck on an event, of a call to a fine-tuning
provider: tests make them short, in use they are what they were), and the limits of reading
a file."""

import os
from pathlib import Path

import pytest

from runtime.devstack.cluster import ClusterStack, model_threads
from runtime.settings import MB, load_settings
from tests.unit.test_settings import refused_naming


def test_defaults():
    s = load_settings({})
    assert s.max_deliveries == 5
    assert (s.retry_backoff_s, s.outage_retry_s, s.hosted_backoff_s) == (2.0, 5.0, 0.5)
    assert s.stuck_retry_s == 30.0
    assert s.model_threads == s.embed_threads == 0  # every core
    assert s.parse_memory_bytes == 1024 * MB
    assert s.parse_timeout_s == 300
    assert s.parse_workers == 2
    assert s.max_pages == 10_000  # R's 2,415-page reference manual fits


def test_values_from_the_environment():
    s = load_settings(
        {
            "SIMTUNE_MAX_DELIVERIES": "3",
            "SIMTUNE_RETRY_BACKOFF_S": "0.5",
            "SIMTUNE_OUTAGE_RETRY_S": "1",
            "SIMTUNE_HOSTED_BACKOFF_S": "0.05",
            "SIMTUNE_STUCK_RETRY_S": "2",
            "SIMTUNE_MODEL_THREADS": "1",
            "SIMTUNE_EMBED_THREADS": "2",
            "SIMTUNE_PARSE_MEMORY_MB": "256",
            "SIMTUNE_PARSE_TIMEOUT_S": "1",
            "SIMTUNE_PARSE_WORKERS": "4",
        }
    )
    assert (s.max_deliveries, s.parse_memory_bytes, s.parse_timeout_s, s.parse_workers) == (
        3,
        256 * MB,
        1,
        4,
    )
    assert (s.retry_backoff_s, s.outage_retry_s, s.hosted_backoff_s) == (0.5, 1.0, 0.05)
    assert s.stuck_retry_s == 2.0
    assert (s.model_threads, s.embed_threads) == (1, 2)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SIMTUNE_MAX_DELIVERIES": "0"}, ["SIMTUNE_MAX_DELIVERIES", "between 1 and 100"]),
        ({"SIMTUNE_RETRY_BACKOFF_S": "0"}, ["SIMTUNE_RETRY_BACKOFF_S", "between 0.01 and 60"]),
        ({"SIMTUNE_RETRY_BACKOFF_S": "soon"}, ["SIMTUNE_RETRY_BACKOFF_S", "a number"]),
        ({"SIMTUNE_OUTAGE_RETRY_S": "301"}, ["SIMTUNE_OUTAGE_RETRY_S", "between 0.01 and 300"]),
        ({"SIMTUNE_OUTAGE_RETRY_S": "nan"}, ["SIMTUNE_OUTAGE_RETRY_S", "between"]),
        ({"SIMTUNE_HOSTED_BACKOFF_S": "-1"}, ["SIMTUNE_HOSTED_BACKOFF_S", "between 0.01 and 60"]),
        ({"SIMTUNE_HOSTED_BACKOFF_S": "inf"}, ["SIMTUNE_HOSTED_BACKOFF_S", "between"]),
        ({"SIMTUNE_STUCK_RETRY_S": "0"}, ["SIMTUNE_STUCK_RETRY_S", "between 0.1 and 3600"]),
        ({"SIMTUNE_MODEL_THREADS": "-1"}, ["SIMTUNE_MODEL_THREADS", "between 0 and 1024"]),
        ({"SIMTUNE_EMBED_THREADS": "1025"}, ["SIMTUNE_EMBED_THREADS", "between 0 and 1024"]),
        ({"SIMTUNE_PARSE_MEMORY_MB": "64"}, ["SIMTUNE_PARSE_MEMORY_MB", "between 128"]),
        ({"SIMTUNE_PARSE_TIMEOUT_S": "soon"}, ["SIMTUNE_PARSE_TIMEOUT_S", "integer"]),
        ({"SIMTUNE_PARSE_WORKERS": "0"}, ["SIMTUNE_PARSE_WORKERS", "between 1 and 64"]),
    ],
)
def test_out_of_range_values_are_refused_naming_the_variable(env, words):
    refused_naming(env, words)


def test_expert_processes_sharing_a_machine_share_its_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))
    assert [model_threads(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    stack = ClusterStack(Path("/nonexistent-home"), replicas=2)
    assert stack.extra_env["SIMTUNE_MODEL_THREADS"] == stack.extra_env["SIMTUNE_EMBED_THREADS"]
    assert stack.extra_env["SIMTUNE_MODEL_THREADS"] == "4"
    chosen = ClusterStack(Path("/nonexistent-home"), env={"SIMTUNE_EMBED_THREADS": "3"})
    assert chosen.extra_env["SIMTUNE_EMBED_THREADS"] == "3"  # a chosen value is kept
