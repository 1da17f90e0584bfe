"""A small HTTP client of the Simtune gateway; every failure becomes one readable line.

Every request presents an API key (`Authorization: Bearer`), `SIMTUNE_API_KEY` or the one
`simtune login` stored for the gateway's URL (`cli.credentials`); a 401 answer is always the
same line, saying how to sign in."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx
import typer

from cli.credentials import CredentialsError, key_for

DEFAULT_URL = "http://127.0.0.1:8000"
P = ParamSpec("P")
R = TypeVar("R")
UNAUTHENTICATED = "Simtune asks who you are: run `simtune login` (or set SIMTUNE_API_KEY)."


class CliError(Exception):
    """Something to tell the person in one line, then exit non-zero."""


class ApiError(CliError):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class Client:
    def __init__(
        self,
        url: str,
        timeout: float = 60.0,
        headers: dict | None = None,
        api_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = dict(headers or {})
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; an unreachable gateway or an error answer raises CliError."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise CliError(f"cannot reach Simtune at {self.url} — is `make run` running?") from exc
        if response.status_code >= 400:
            raise api_error(response)
        return response

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A response read as it arrives (a download, an SSE stream); an error answer raises
        ApiError. Transport errors are left to the caller, which may reconnect."""
        with self._http.stream(method, path, **kwargs) as response:
            if response.status_code >= 400:
                response.read()
                raise api_error(response)
            yield response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def get_all(self, path: str, page_size: int = 1000) -> list:
        """Every item of a paged list, following its `X-Next-Cursor` from page to page."""
        items: list = []
        params: dict[str, Any] = {"limit": page_size}
        while True:
            response = self.send("GET", path, params=params)
            items += response.json()
            cursor = response.headers.get("x-next-cursor")
            if not cursor:
                return items
            params["after"] = cursor

    def upload(self, expert_id: str, files: list[Path]) -> list[dict]:
        with ExitStack() as stack:
            parts = [
                (
                    "file",
                    (path.name, stack.enter_context(path.open("rb")), "application/octet-stream"),
                )
                for path in files
            ]
            reply = self.request("POST", f"/api/experts/{expert_id}/documents", files=parts)
        return reply["documents"]


def api_error(response: httpx.Response) -> ApiError:
    """The gateway's `{error, detail}` body as an ApiError (a first line of text otherwise);
    a 401, whatever its body, says how to sign in."""
    if response.status_code == 401:
        return ApiError(401, "unauthenticated", UNAUTHENTICATED)
    try:
        body = response.json()
        return ApiError(response.status_code, body["error"], body["detail"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        return ApiError(response.status_code, "http", f"HTTP {response.status_code} {text}".strip())


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a CliError (or an unreadable credentials file) into one line on stderr and exit
    status 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (CliError, CredentialsError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def command(group: typer.Typer, name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a function as the command `name` of `group`, its CliErrors one line
    (`friendly`): how every command of the CLI is declared."""

    def register(fn: Callable[P, R]) -> Callable[P, R]:
        return group.command(name)(friendly(fn))

    return register


def url_of(ctx: typer.Context) -> str:
    """The gateway's URL: `--url` (or `SIMTUNE_URL`), else the default."""
    return ((ctx.obj or {}).get("url") or DEFAULT_URL).rstrip("/")


def client_from(
    ctx: typer.Context, headers: dict | None = None, api_key: str | None = None
) -> Client:
    """The client of the gateway named by `--url`, presenting `api_key` (by default the key
    `cli.credentials.key_for` finds), closed when the command ends."""
    url = url_of(ctx)
    client = Client(url, headers=headers, api_key=api_key or key_for(url))
    ctx.call_on_close(client.close)
    return client


def write_out(text: str, output: Path | None) -> bool:
    """`text` to the file `output`, or to stdout when there is none; True when a file was
    written (the caller then says so). A file that cannot be written is one clear error."""
    if output is None:
        typer.echo(text, nl=not text.endswith("\n") and bool(text))
        return False
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}") from exc
    return True
