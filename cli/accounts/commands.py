"""`simtune login|logout|whoami` and `simtune keys list|create|revoke`.

`login` checks a key with the gateway (`GET /api/auth/me`) before it keeps it, so a typo is
refused at once instead of on the next command; the key is asked for with a hidden prompt,
so it stays out of the shell's history and the screen. A new key is printed once, on a line
of its own, as the gateway shows it only in the reply that made it."""

from __future__ import annotations

import os
from urllib.parse import quote

import typer

from cli import credentials
from cli.accounts.views import expiry, keys_table, scopes
from cli.args import JsonOption, one_of
from cli.client import ApiError, Client, CliError, client_from, command, url_of
from cli.render import print_list, printed_json, say
from contracts.accounts import ALL_SCOPES, KEY_PREFIX

commands = typer.Typer()  # `login`, `logout` and `whoami`, at the top level of `simtune`
keys = typer.Typer(help="Your API keys: list, create, revoke.", no_args_is_help=True)

UrlOption = typer.Option(
    None, "--url", help="The gateway to sign in to (default: simtune's --url or SIMTUNE_URL)."
)


def whois(client: Client) -> dict:
    """`GET /api/auth/me`: {user_id, email, role} of the key the client presents."""
    return client.get("/api/auth/me")


@command(commands, "login")
def login(
    ctx: typer.Context,
    url: str | None = UrlOption,
    key: str | None = typer.Option(
        None, "--key", help="The API key; asked for (hidden) when not given."
    ),
) -> None:
    """Sign in with an API key: checked with the gateway, then kept for its URL.

    Make a key in the console's account page, or with `simtune keys create` where you are
    already signed in."""
    target = (url or url_of(ctx)).rstrip("/")
    key = (key if key is not None else typer.prompt("API key", hide_input=True)).strip()
    if not key.startswith(KEY_PREFIX):
        raise CliError(f"that is not a Simtune API key (they start with {KEY_PREFIX})")
    client = Client(target, api_key=key)
    ctx.call_on_close(client.close)
    try:
        me = whois(client)
    except ApiError as exc:
        if exc.status != 401:
            raise
        raise CliError(f"{target} refused this key: it is unknown, revoked or expired") from None
    path = credentials.store(target, key, me["email"])
    say(f"Signed in to {target} as {me['email']} ({me['role']}); the key is kept in {path}.")
    if os.environ.get(credentials.ENV_KEY, "").strip() not in ("", key):
        say(f"{credentials.ENV_KEY} is set, and its key is used instead while it is.", "yellow")


@command(commands, "logout")
def logout(ctx: typer.Context, url: str | None = UrlOption) -> None:
    """Forget the key kept for this gateway (the key itself works until it is revoked)."""
    target = (url or url_of(ctx)).rstrip("/")
    if credentials.forget(target):
        say(
            f"Signed out of {target}: its key is no longer kept here. It still works where else"
            " it is used until it is revoked (simtune keys revoke ID)."
        )
    else:
        say(f"No key was kept for {target}; nothing to do.")
    if os.environ.get(credentials.ENV_KEY, "").strip():
        say(f"{credentials.ENV_KEY} is set: requests still present its key.", "yellow")


@command(commands, "whoami")
def whoami(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Who the gateway knows you as, with the key the CLI presents."""
    me = whois(client_from(ctx))
    if printed_json(me, as_json):
        return
    source = (
        credentials.ENV_KEY
        if os.environ.get(credentials.ENV_KEY, "").strip()
        else str(credentials.credentials_path())
    )
    say(f"{me['email']} ({me['role']}) at {url_of(ctx)}, user id {me['user_id']}.")
    say(f"The key comes from {source}.", "dim")


@command(keys, "list")
def list_keys(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List your API keys: name, prefix, scopes, expiry, last use (never the keys)."""
    found = client_from(ctx).get("/api/auth/api-keys")["keys"]
    empty = "You have no API keys yet: simtune keys create NAME"
    print_list(found, keys_table, empty, "API keys", as_json)


@command(keys, "create")
def create_key(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What the key is for, e.g. laptop or ci."),
    scope: list[str] = typer.Option(
        [], "--scope", help=f"{', '.join(ALL_SCOPES)} (repeat; default: read and write)."
    ),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", min=1, max=3650, help="Refused after this many days."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create an API key; it is printed once and never shown again."""
    for each in scope:
        one_of("--scope", each, tuple(ALL_SCOPES))
    body: dict = {"name": name}
    if scope:
        body["scopes"] = list(dict.fromkeys(scope))
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    made = client_from(ctx).request("POST", "/api/auth/api-keys", json=body)
    if printed_json(made, as_json):
        return
    granted = scopes(made.get("scopes") or body.get("scopes") or [])
    lasts = expiry(made["expires_at"])
    say(f"Created the API key {made['name']} (id {made['id']}; {granted}; {lasts}):")
    typer.echo(made["key"])
    say("Copy it now: it will not be shown again.", "yellow")


@command(keys, "revoke")
def revoke_key(
    ctx: typer.Context, key_id: str = typer.Argument(..., metavar="ID", help="The key's id.")
) -> None:
    """Revoke an API key: it is refused from then on."""
    client_from(ctx).request("DELETE", f"/api/auth/api-keys/{quote(key_id, safe='')}")
    say(f"Revoked the API key {key_id}: it is refused from now on.")
