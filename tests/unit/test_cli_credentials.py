"""Where the CLI keeps its API keys: one entry per gateway URL, a 0600 file in a 0700 folder,
written whole or not at all; `SIMTUNE_API_KEY` wins over it."""

from __future__ import annotations

import json
import stat
import threading

import pytest

from cli import credentials

LOCAL, TEAM = "http://127.0.0.1:8000", "https://simtune.example.org"


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    folder = tmp_path / "config" / "simtune"
    monkeypatch.setenv("SIMTUNE_CONFIG_DIR", str(folder))
    monkeypatch.delenv("SIMTUNE_API_KEY", raising=False)
    return folder


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_and_its_folder_are_private(config_dir):
    written = credentials.store(LOCAL, "sk-sim-one", "ada@example.org")
    assert written == config_dir / "credentials.json"
    assert mode(config_dir) == 0o700
    assert mode(written) == 0o600
    credentials.store(TEAM, "sk-sim-two", "ada@example.org")  # a rewrite keeps it private
    assert mode(written) == 0o600


def test_one_entry_per_gateway_url(config_dir):
    credentials.store(LOCAL, "sk-sim-local", "ada@example.org")
    credentials.store(TEAM + "/", "sk-sim-team", "ada@team.example.org")
    assert credentials.key_for(LOCAL + "/") == "sk-sim-local"
    assert credentials.key_for(TEAM) == "sk-sim-team"
    assert credentials.key_for("http://127.0.0.1:9000") is None

    credentials.store(LOCAL, "sk-sim-newer", "ada@example.org")  # a new login replaces it
    assert credentials.key_for(LOCAL) == "sk-sim-newer"
    assert credentials.forget(LOCAL) is True
    assert credentials.forget(LOCAL) is False
    assert credentials.key_for(LOCAL) is None
    assert credentials.key_for(TEAM) == "sk-sim-team"
    on_disk = json.loads((config_dir / "credentials.json").read_text())
    assert list(on_disk["gateways"]) == [TEAM]


def test_the_environment_wins(monkeypatch):
    credentials.store(LOCAL, "sk-sim-stored", "ada@example.org")
    monkeypatch.setenv("SIMTUNE_API_KEY", "sk-sim-from-env")
    assert credentials.key_for(LOCAL) == "sk-sim-from-env"
    assert credentials.key_for(TEAM) == "sk-sim-from-env"
    monkeypatch.setenv("SIMTUNE_API_KEY", "  ")  # set but empty: as if unset
    assert credentials.key_for(LOCAL) == "sk-sim-stored"


def test_a_reader_never_sees_half_a_file(config_dir):
    """Rewritten again and again while another thread reads it: every read is a whole file,
    and no temporary file is left behind."""
    for i in range(30):  # a file of a few kB, so that a write is not one tiny syscall
        credentials.store(f"https://gateway-{i}.example.org", f"sk-sim-{i:043d}", "a@example.org")
    credentials.store(LOCAL, "sk-sim-0", "ada@example.org")
    path = config_dir / "credentials.json"
    torn: list[str] = []
    done = threading.Event()

    def read_all_along() -> None:
        while not done.is_set():
            text = path.read_text()
            try:
                json.loads(text)["gateways"][LOCAL]
            except (ValueError, KeyError):
                torn.append(text)

    reader = threading.Thread(target=read_all_along)
    reader.start()
    try:
        for n in range(200):
            credentials.store(LOCAL, f"sk-sim-{n}", "ada@example.org")
    finally:
        done.set()
        reader.join()
    assert torn == []
    assert credentials.key_for(LOCAL) == "sk-sim-199"
    assert sorted(p.name for p in config_dir.iterdir()) == ["credentials.json"]


def test_a_file_it_did_not_write_is_one_clear_error(config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "credentials.json").write_text("not json")
    with pytest.raises(credentials.CredentialsError, match="credentials.json is not a credentials"):
        credentials.key_for(LOCAL)
