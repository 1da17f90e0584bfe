"""`simtune admin users` on the server machine, against the real accounts service: no gateway
and no key, only SIMTUNE_HOME, from which the command finds the embedded NATS itself. A user
made with `--api-key --json` gets a key the accounts service knows as theirs; a member listed
is deleted by email or id, after a confirmation unless `--yes`."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from typer.testing import CliRunner

from cli.main import app
from contracts.accounts import KEY_PREFIX, Whois
from contracts.base import DomainError
from runtime.rpc import ask
from tests.integration.test_cli import one_line_error
from tests.support.inprocess import start_service

pytest.importorskip("services.accounts.wiring")

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def accounts(servers, services):
    """The session's accounts service, or one of this module's where the session runs none."""
    if "accounts" in services:
        yield services["accounts"]
        return
    host = await start_service(servers.settings(), "accounts")
    yield host
    await host.stop()


@pytest.fixture
def admin(servers, accounts):
    """`simtune admin …` as the person at the server's console runs it: SIMTUNE_HOME set,
    NATS_URL not (so the command reads the running NATS's port from under the home)."""
    runner = CliRunner()

    async def run(*args: str, input: str | None = None, home: str | None = None):
        env = {"SIMTUNE_HOME": home or str(servers.home), "NATS_URL": None, "COLUMNS": "200"}
        return await asyncio.to_thread(
            runner.invoke, app, ["admin", *args], env=env, input=input, catch_exceptions=False
        )

    return run


def address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


async def listed(admin) -> dict[str, dict]:
    shown = await admin("users", "list", "--json")
    assert shown.exit_code == 0, shown.stderr
    return {user["email"]: user for user in json.loads(shown.stdout)}


async def test_create_with_a_key_as_json_and_the_key_is_theirs(admin, nc):
    email = address("grace")
    made = await admin("users", "create", email, "--api-key", "--json")
    assert made.exit_code == 0, made.stderr
    created = json.loads(made.stdout)
    assert set(created) == {"user_id", "email", "role", "api_key"}
    assert created["email"] == email and created["role"] == "member"
    assert created["api_key"].startswith(KEY_PREFIX)

    who = await ask(nc, Whois(credential=created["api_key"]))
    assert (who.user_id, who.email, who.via) == (created["user_id"], email, "key")
    assert listed_user(await listed(admin), email)["user_id"] == created["user_id"]


def listed_user(users: dict[str, dict], email: str) -> dict:
    assert email in users, sorted(users)
    return users[email]


async def test_create_without_a_key_prints_null_and_an_owner_role(admin):
    email = address("owner")
    made = await admin("users", "create", email, "--role", "owner", "--json")
    assert made.exit_code == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["api_key"] is None and created["role"] == "owner"
    table = await admin("users", "list")
    assert email in table.stdout and "owner" in table.stdout
    one_line_error(await admin("users", "create", address("x"), "--role", "root"), "--role")
    one_line_error(await admin("users", "create", "not-an-address"), "email")


async def test_delete_asks_first_and_takes_an_email_or_an_id(admin, nc):
    first, second = address("ada"), address("linus")
    made = await admin("users", "create", first, "--api-key", "--json")
    key = json.loads(made.stdout)["api_key"]
    second_id = json.loads((await admin("users", "create", second, "--json")).stdout)["user_id"]

    one_line_error(await admin("users", "delete", first.upper(), input="n\n"), "nothing")
    assert first in await listed(admin)
    deleted = await admin("users", "delete", first.upper(), input=f"{first}\n")
    assert deleted.exit_code == 0, deleted.stderr
    assert first not in await listed(admin)
    with pytest.raises(DomainError):  # their key stopped working with them
        await ask(nc, Whois(credential=key))

    assert (await admin("users", "delete", second_id, "--yes")).exit_code == 0
    assert second not in await listed(admin)
    one_line_error(await admin("users", "delete", second_id, "--yes"), "no user")


async def test_a_home_where_simtune_never_ran_is_one_line(admin, tmp_path):
    one_line_error(await admin("users", "list", home=str(tmp_path)), "SIMTUNE_HOME", "NATS_URL")


async def test_a_member_made_here_signs_in_and_manages_their_keys(admin, stack, tmp_path):
    """The key `admin users create --api-key` printed takes its person through the gateway:
    `login` keeps it, `whoami` names them, a key they make and revoke is refused after."""
    email = address("member")
    made = await admin("users", "create", email, "--api-key", "--json")
    first_key = json.loads(made.stdout)["api_key"]
    runner = CliRunner()

    async def simtune(*args: str, input: str | None = None, key: str | None = None):
        env = {
            "SIMTUNE_URL": stack.url,
            "SIMTUNE_CONFIG_DIR": str(tmp_path / "config"),
            "SIMTUNE_API_KEY": key,
            "COLUMNS": "200",
        }
        return await asyncio.to_thread(
            runner.invoke, app, list(args), env=env, input=input, catch_exceptions=False
        )

    one_line_error(await simtune("whoami"), "simtune login", "SIMTUNE_API_KEY")
    signed_in = await simtune("login", input=f"{first_key}\n")
    assert signed_in.exit_code == 0, signed_in.stderr
    assert f"as {email} (member)" in signed_in.stdout
    me = json.loads((await simtune("whoami", "--json")).stdout)
    assert (me["email"], me["role"]) == (email, "member")

    laptop = json.loads((await simtune("keys", "create", "laptop", "--json")).stdout)
    assert laptop["key"].startswith(KEY_PREFIX) and laptop["key"] != first_key
    listed = json.loads((await simtune("keys", "list", "--json")).stdout)
    assert laptop["id"] in [k["id"] for k in listed]
    assert json.loads((await simtune("whoami", "--json", key=laptop["key"])).stdout) == me

    assert (await simtune("keys", "revoke", laptop["id"])).exit_code == 0
    one_line_error(await simtune("whoami", key=laptop["key"]), "simtune login")
    assert (await simtune("logout")).exit_code == 0
    one_line_error(await simtune("whoami"), "simtune login")
