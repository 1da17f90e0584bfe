"""`simtune login|logout|whoami|keys` and the key every request presents, against a small
HTTP server in this process that answers the accounts routes as the API document says
(`GET /api/auth/me`, `/api/auth/api-keys`) and records the Authorization header of every
request it is sent."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from cli import credentials
from cli.client import UNAUTHENTICATED
from cli.main import app

GOOD = "sk-sim-" + "g" * 43
ADA = {"user_id": "u-ada", "email": "ada@example.org", "role": "owner"}


class Gateway(ThreadingHTTPServer):
    """What a gateway with accounts answers: the keys it knows, and whose they are."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Routes)
        self.keys: dict[str, dict] = {GOOD: {"id": "k0", "name": "first", "scopes": ["read"]}}
        self.seen: list[tuple[str, str | None]] = []  # (path, Authorization) of each request

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Routes(BaseHTTPRequestHandler):
    server: Gateway

    def log_message(self, *args) -> None:  # quiet
        pass

    def answer(self, status: int, body: object | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def signed_in(self) -> bool:
        header = self.headers.get("Authorization")
        self.server.seen.append((self.path, header))
        if header and header.removeprefix("Bearer ") in self.server.keys:
            return True
        self.answer(401, {"error": "unauthenticated", "detail": "sign in first"})
        return False

    def do_GET(self) -> None:
        if not self.signed_in():
            return
        if self.path == "/api/auth/me":
            self.answer(200, ADA)
        elif self.path == "/api/auth/api-keys":
            views = [
                {
                    **key,
                    "prefix": secret[:11],
                    "created_at": "2026-03-01T10:00:00+00:00",
                    "expires_at": None,
                    "last_used_at": None,
                }
                for secret, key in self.server.keys.items()
            ]
            self.answer(200, {"keys": views})
        elif self.path == "/api/experts":
            self.answer(200, [])
        else:
            self.answer(404, {"error": "not_found", "detail": "no such route"})

    def do_POST(self) -> None:
        if not self.signed_in():
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        secret = f"sk-sim-{len(self.server.keys):043d}"
        made = {"id": f"k{len(self.server.keys)}", "name": body["name"]}
        made["scopes"] = body.get("scopes", ["read", "write"])
        self.server.keys[secret] = made
        days = body.get("expires_in_days")
        expires = None if days is None else f"2026-03-{1 + days:02d}T10:00:00+00:00"
        self.answer(201, {**made, "prefix": secret[:11], "key": secret, "expires_at": expires})

    def do_DELETE(self) -> None:
        if not self.signed_in():
            return
        key_id = self.path.rsplit("/", 1)[-1]
        for secret, key in list(self.server.keys.items()):
            if key["id"] == key_id:
                del self.server.keys[secret]
                self.answer(204)
                return
        self.answer(404, {"error": "not_found", "detail": f"API key {key_id} was not found"})


@pytest.fixture
def gateway():
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    folder = tmp_path / "simtune-config"
    monkeypatch.setenv("SIMTUNE_CONFIG_DIR", str(folder))  # credentials.* read it here too
    monkeypatch.delenv("SIMTUNE_API_KEY", raising=False)
    return folder


@pytest.fixture
def simtune(gateway, config_dir):
    runner = CliRunner()

    def run(*args: str, input: str | None = None, api_key: str | None = None):
        env = {
            "SIMTUNE_URL": gateway.url,
            "SIMTUNE_CONFIG_DIR": str(config_dir),
            "SIMTUNE_API_KEY": api_key,  # None: unset
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
        return runner.invoke(app, list(args), env=env, input=input, catch_exceptions=False)

    return run


def one_line(result) -> str:
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_without_a_key_the_gateway_asks_who_you_are_in_one_line(simtune, gateway):
    assert one_line(simtune("experts", "list")) == f"error: {UNAUTHENTICATED}"
    assert gateway.seen == [("/api/experts", None)]
    refused = simtune("experts", "list", api_key="sk-sim-revoked")
    assert one_line(refused) == f"error: {UNAUTHENTICATED}"


def test_login_checks_the_key_keeps_it_and_every_request_presents_it(simtune, gateway):
    signed_in = simtune("login", "--key", GOOD)
    assert signed_in.exit_code == 0, signed_in.stderr
    assert f"Signed in to {gateway.url} as ada@example.org (owner)" in signed_in.stdout
    assert credentials.key_for(gateway.url) == GOOD

    assert simtune("experts", "list").exit_code == 0
    assert gateway.seen[-1] == ("/api/experts", f"Bearer {GOOD}")

    whoami = simtune("whoami", "--json")
    assert json.loads(whoami.stdout) == ADA
    assert "ada@example.org (owner)" in simtune("whoami").stdout


def test_the_environment_key_wins_over_the_stored_one(simtune, gateway):
    assert simtune("login", "--key", GOOD).exit_code == 0
    other = "sk-sim-" + "e" * 43
    gateway.keys[other] = {"id": "k9", "name": "ci", "scopes": ["read"]}
    assert simtune("experts", "list", api_key=other).exit_code == 0
    assert gateway.seen[-1] == ("/api/experts", f"Bearer {other}")
    assert "SIMTUNE_API_KEY" in simtune("whoami", api_key=other).stdout


def test_login_asks_with_a_hidden_prompt_and_refuses_a_bad_key(simtune, gateway, config_dir):
    asked = simtune("login", input=f"{GOOD}\n")
    assert asked.exit_code == 0, asked.stderr
    assert "API key" in asked.stdout and GOOD not in asked.stdout  # typed, never shown
    assert credentials.key_for(gateway.url) == GOOD

    wrong = simtune("login", "--url", gateway.url + "/", "--key", "sk-sim-" + "x" * 43)
    assert "refused this key" in one_line(wrong)
    assert credentials.key_for(gateway.url) == GOOD  # the good key is still the one kept
    assert "not a Simtune API key" in one_line(simtune("login", "--key", "hunter2"))


def test_logout_forgets_the_key_of_that_gateway_only(simtune, gateway):
    assert simtune("login", "--key", GOOD).exit_code == 0
    credentials.store("https://team.example.org", "sk-sim-team", "ada@example.org")
    out = simtune("logout")
    assert out.exit_code == 0 and "Signed out of" in out.stdout
    assert credentials.key_for(gateway.url) is None
    assert credentials.key_for("https://team.example.org") == "sk-sim-team"
    assert one_line(simtune("whoami")) == f"error: {UNAUTHENTICATED}"
    assert "No key was kept" in simtune("logout").stdout


def test_keys_create_shows_the_key_once_then_list_and_revoke(simtune, gateway):
    assert simtune("login", "--key", GOOD).exit_code == 0
    made = simtune(
        "keys", "create", "laptop", "--scope", "read", "--scope", "write", "--expires-in-days", "7"
    )
    assert made.exit_code == 0, made.stderr
    [secret] = [s for s, key in gateway.keys.items() if key["name"] == "laptop"]
    assert secret in made.stdout.splitlines()  # on a line of its own, to copy
    assert "will not be shown again" in made.stdout
    assert "read, write" in made.stdout and "expires 2026-03-08" in made.stdout
    assert gateway.keys[secret]["scopes"] == ["read", "write"]

    listed = simtune("keys", "list")
    assert "laptop" in listed.stdout and secret[:11] in listed.stdout
    assert secret not in listed.stdout
    as_json = json.loads(simtune("keys", "list", "--json").stdout)
    key_id = next(k["id"] for k in as_json if k["name"] == "laptop")

    revoked = simtune("keys", "revoke", key_id)
    assert revoked.exit_code == 0 and f"Revoked the API key {key_id}" in revoked.stdout
    assert secret not in gateway.keys
    assert "not found" in one_line(simtune("keys", "revoke", key_id))
    assert re.search(r"--scope must be one of read, write, admin", one_line(
        simtune("keys", "create", "x", "--scope", "root")
    ))  # fmt: skip


def test_keys_create_json_for_scripts(simtune, gateway):
    made = json.loads(simtune("keys", "create", "ci", "--json", api_key=GOOD).stdout)
    assert made["key"] in gateway.keys and made["name"] == "ci"
    assert set(made) >= {"id", "name", "prefix", "key", "expires_at"}


def test_an_unreadable_credentials_file_is_one_line(simtune, config_dir):
    config_dir.mkdir()
    (config_dir / "credentials.json").write_text("{")
    assert "is not a credentials file" in one_line(simtune("experts", "list"))
