"""The NATS users' passwords: made once per SIMTUNE_HOME, readable by its owner alone, and
found by each process under its own name (or told by NATS_USER / NATS_PASSWORD)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runtime.nats_auth import (
    ADMIN,
    GATEWAY,
    SERVICES,
    USERS,
    authorization_config,
    connect_options,
    ensure_credentials,
    users_dir,
)
from runtime.settings import SettingsError, load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_credentials_folder_is_0700_and_each_file_0600(tmp_path):
    folder = users_dir(tmp_path)
    ensure_credentials(folder)
    assert mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == sorted(f"{name}.json" for name in USERS)
    assert all(mode(f) == 0o600 for f in files)


def test_a_looser_folder_is_tightened(tmp_path):
    folder = users_dir(tmp_path)
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    ensure_credentials(folder)
    assert mode(folder) == 0o700


def test_passwords_are_made_once_each_its_own(tmp_path):
    folder = users_dir(tmp_path)
    first = ensure_credentials(folder)
    assert ensure_credentials(folder) == first  # a restart keeps them
    assert len(set(first.values())) == len(USERS)  # no two users share one
    assert all(len(password) >= 32 for password in first.values())


def test_each_process_finds_its_own_user_under_its_home(tmp_path):
    passwords = ensure_credentials(users_dir(tmp_path))
    settings = load_settings({"SIMTUNE_HOME": str(tmp_path)})
    for name in (*SERVICES, GATEWAY, ADMIN):
        assert connect_options(settings, name) == {"user": name, "password": passwords[name]}


def test_the_environment_names_the_user_for_a_deployment(tmp_path):
    ensure_credentials(users_dir(tmp_path))
    env = {"SIMTUNE_HOME": str(tmp_path), "NATS_USER": "svc-expert", "NATS_PASSWORD": "pw"}
    told = connect_options(load_settings(env), "expert")
    assert told == {"user": "svc-expert", "password": "pw"}


@pytest.mark.parametrize("only", ["NATS_USER", "NATS_PASSWORD"])
def test_a_user_without_a_password_or_the_reverse_stops_the_start(only):
    with pytest.raises(SettingsError, match="NATS_USER and NATS_PASSWORD"):
        load_settings({only: "x"})


def test_the_server_takes_no_connection_without_a_user(tmp_path):
    config = authorization_config(ensure_credentials(users_dir(tmp_path)))
    assert "no_auth_user" not in config and "authorization {" in config
    for name in USERS:
        assert f'user: "{name}"' in config
