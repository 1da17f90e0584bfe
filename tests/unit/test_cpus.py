"""The cores a process may use: its affinity, capped by its container's CPU quota, which is
what a Kubernetes limit or a compose `cpus:` sets (cgroup v2's `cpu.max`, or v1's files)."""

from __future__ import annotations

import os

import pytest

from runtime import cpus


@pytest.fixture
def eight_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))


def cgroup_v2(root, text: str):
    (root / "cpu.max").write_text(text)
    return root


def cgroup_v1(root, quota_us: int, period_us: int):
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota_us}\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(f"{period_us}\n")
    return root


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("200000 100000\n", 2), ("150000 100000\n", 2), ("50000 100000\n", 1),
     ("max 100000\n", 8), ("1600000 100000\n", 8)],
)  # fmt: skip
def test_a_cgroup_v2_limit_caps_the_cores(tmp_path, eight_cores, limit, expected):
    assert cpus.cores(cgroup_v2(tmp_path, limit)) == expected


@pytest.mark.parametrize(("quota_us", "expected"), [(300_000, 3), (-1, 8)])  # -1: no limit
def test_a_cgroup_v1_limit_caps_the_cores(tmp_path, eight_cores, quota_us, expected):
    assert cpus.cores(cgroup_v1(tmp_path, quota_us, 100_000)) == expected


@pytest.mark.parametrize("text", ["", "garbage", "100000 0", "max"])
def test_an_unreadable_limit_leaves_the_affinity(tmp_path, eight_cores, text):
    assert cpus.cores(cgroup_v2(tmp_path, text)) == 8


def test_no_cgroup_files_leave_the_affinity(tmp_path, eight_cores):
    assert cpus.quota(tmp_path) is None and cpus.cores(tmp_path) == 8


def test_the_training_child_and_the_cluster_shape_count_the_same_cores(
    tmp_path, eight_cores, monkeypatch
):
    from runtime.child_env import training_threads
    from runtime.devstack.cluster import model_threads

    monkeypatch.setattr(cpus, "CGROUP", cgroup_v2(tmp_path, "400000 100000"))
    assert (cpus.cores(), training_threads(0), model_threads(2)) == (4, 3, 2)
