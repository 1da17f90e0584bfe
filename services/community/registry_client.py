"""How the local role reaches a registry: the install's own (no `TEMPLATE_REGISTRY_URL`),
by calling its handlers directly, or another one over HTTP at its `/v1/templates` API.

Both answer with the same contracts, so the local role does not care which it talks to.
For the own registry the person's tenant is who they are there; a remote registry knows a
person by the API key of its instance they hold (`registry_key`, else
`TEMPLATE_REGISTRY_API_KEY`), and reads need none. A registry that cannot be reached raises
`unavailable`, which the hub turns into its cached listings.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import httpx
import msgspec

from contracts.base import HTTP_STATUS, Accepted, DomainError, ErrorCode, ErrorReply
from contracts.community import (
    OWN_REGISTRY,
    Listing,
    Published,
    PublishedTemplate,
    PublishedVersions,
    RegistryDownload,
    RegistryGet,
    RegistryPublish,
    RegistryPublishVersion,
    RegistryRate,
    RegistryReport,
    RegistryReview,
    RegistrySearch,
    RegistryVersions,
)
from services.community.registry import RegistryCommands, RegistryQueries

T = TypeVar("T")
TIMEOUT_S = 10.0


class Registry(Protocol):
    url: str  # OWN_REGISTRY ("") or the remote registry's address

    async def search(self, q: RegistrySearch) -> Listing: ...
    async def get(self, q: RegistryGet) -> PublishedTemplate: ...
    async def versions(self, q: RegistryVersions) -> PublishedVersions: ...
    async def download(self, cmd: RegistryDownload, key: str = "") -> PublishedTemplate: ...
    async def publish(self, cmd: RegistryPublish, key: str = "") -> Published: ...
    async def publish_version(self, cmd: RegistryPublishVersion, key: str = "") -> Published: ...
    async def rate(self, cmd: RegistryRate, key: str = "") -> Accepted: ...
    async def review(self, cmd: RegistryReview, key: str = "") -> Accepted: ...
    async def report(self, cmd: RegistryReport, key: str = "") -> Accepted: ...


class OwnRegistry:
    """The install's own registry role, called in-process: the person is their tenant."""

    url = OWN_REGISTRY

    def __init__(self, commands: RegistryCommands, queries: RegistryQueries) -> None:
        self.commands, self.queries = commands, queries

    async def search(self, q: RegistrySearch) -> Listing:
        return await self.queries.search(q)

    async def get(self, q: RegistryGet) -> PublishedTemplate:
        return await self.queries.get(q)

    async def versions(self, q: RegistryVersions) -> PublishedVersions:
        return await self.queries.versions(q)

    async def download(self, cmd: RegistryDownload, key: str = "") -> PublishedTemplate:
        return await self.commands.download(cmd)

    async def publish(self, cmd: RegistryPublish, key: str = "") -> Published:
        return await self.commands.publish(cmd)

    async def publish_version(self, cmd: RegistryPublishVersion, key: str = "") -> Published:
        return await self.commands.publish_version(cmd)

    async def rate(self, cmd: RegistryRate, key: str = "") -> Accepted:
        return await self.commands.rate(cmd)

    async def review(self, cmd: RegistryReview, key: str = "") -> Accepted:
        return await self.commands.review(cmd)

    async def report(self, cmd: RegistryReport, key: str = "") -> Accepted:
        return await self.commands.report(cmd)


class RemoteRegistry:
    """Another instance's registry, over its public `/v1/templates` API."""

    def __init__(self, url: str, api_key: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key or ""
        self.client = httpx.AsyncClient(
            base_url=self.url, timeout=TIMEOUT_S, headers={"Accept": "application/json"}
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def search(self, q: RegistrySearch) -> Listing:
        asked = _body(q, "tenant", "after_seq")
        params = {name: value for name, value in asked.items() if value != ""}
        return await self._call("GET", "/v1/templates", Listing, params=params)

    async def get(self, q: RegistryGet) -> PublishedTemplate:
        params = {"version": q.version} if q.version else None
        return await self._call(
            "GET", f"/v1/templates/{q.registry_id}", PublishedTemplate, params=params
        )

    async def versions(self, q: RegistryVersions) -> PublishedVersions:
        return await self._call("GET", f"/v1/templates/{q.registry_id}/versions", PublishedVersions)

    async def download(self, cmd: RegistryDownload, key: str = "") -> PublishedTemplate:
        params = {"version": cmd.version} if cmd.version else None
        return await self._call(
            "GET", f"/v1/templates/{cmd.registry_id}/download", PublishedTemplate,
            params=params, key=key,
        )  # fmt: skip

    async def publish(self, cmd: RegistryPublish, key: str = "") -> Published:
        body = _body(cmd, "tenant")
        return await self._published("POST", "/v1/templates", body, key)

    async def publish_version(self, cmd: RegistryPublishVersion, key: str = "") -> Published:
        body = _body(cmd, "tenant", "registry_id")
        return await self._published("PUT", f"/v1/templates/{cmd.registry_id}", body, key)

    async def rate(self, cmd: RegistryRate, key: str = "") -> Accepted:
        return await self._feedback(cmd, "rate", key)  # {rating}

    async def review(self, cmd: RegistryReview, key: str = "") -> Accepted:
        return await self._feedback(cmd, "reviews", key)  # {rating, comment}

    async def report(self, cmd: RegistryReport, key: str = "") -> Accepted:
        return await self._feedback(cmd, "report", key)  # {reason}

    async def _feedback(
        self, cmd: RegistryRate | RegistryReview | RegistryReport, action: str, key: str
    ) -> Accepted:
        """A rating, review or report: the command's own fields are the request's body."""
        body = _body(cmd, "tenant", "registry_id")
        path = f"/v1/templates/{cmd.registry_id}/{action}"
        return await self._call("POST", path, Accepted, body=body, key=key)

    async def _published(self, method: str, path: str, body: dict, key: str) -> Published:
        found = await self._call(method, path, Published, body=body, key=key)
        return msgspec.structs.replace(found, registry_url=self.url)

    async def _call(
        self,
        method: str,
        path: str,
        reply: type[T],
        *,
        params: dict | None = None,
        body: Any = None,
        key: str = "",
    ) -> T:
        """One request; a write without a key is refused here, before it travels."""
        key = key or self.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if method != "GET" and not key:
            raise DomainError(
                ErrorCode.INVALID,
                f"the template registry at {self.url} needs an API key of its own instance"
                " for this: set TEMPLATE_REGISTRY_API_KEY or give your key for it",
            )
        content = msgspec.json.encode(body) if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self.client.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise DomainError(
                ErrorCode.UNAVAILABLE,
                f"the template registry at {self.url} cannot be reached ({type(exc).__name__})",
            ) from exc
        if response.status_code >= 400:
            raise _refusal(self.url, response)
        try:
            return msgspec.json.decode(response.content or b"{}", type=reply)
        except msgspec.MsgspecError as exc:
            raise DomainError(
                ErrorCode.BACKEND,
                f"the template registry at {self.url} answered with something that is not a"
                f" {reply.__name__}",
            ) from exc


class _OpenAIErrorDetail(msgspec.Struct, frozen=True):
    message: str
    code: str


class _OpenAIError(msgspec.Struct, frozen=True):
    """How a `/v1` route refuses (OpenAI's shape): its `code` is the error code."""

    error: _OpenAIErrorDetail


def _body(cmd: msgspec.Struct, *leave_out: str) -> dict:
    """A message's fields as a request names them, less those the request does not send."""
    data = msgspec.to_builtins(cmd)
    for name in ("type", *leave_out):
        data.pop(name, None)
    return data


# What a refusal's status means here when its code is not one of ours: a key the registry's
# instance does not know (401, 403) is the person's to fix, like any invalid request.
_CODES = {
    400: ErrorCode.INVALID, 401: ErrorCode.INVALID, 403: ErrorCode.INVALID,
    404: ErrorCode.NOT_FOUND, 409: ErrorCode.CONFLICT, 413: ErrorCode.TOO_LARGE,
    422: ErrorCode.INVALID, 429: ErrorCode.RATE_LIMITED, 503: ErrorCode.UNAVAILABLE,
}  # fmt: skip


def _refusal(url: str, response: httpx.Response) -> DomainError:
    """The registry's refusal as the same error here: its code and sentence when it sent
    one (an `ErrorReply`), else its status in words."""
    for shape in (ErrorReply, _OpenAIError):
        try:
            err = msgspec.json.decode(response.content, type=shape)
        except msgspec.MsgspecError:
            continue
        code, detail = (
            (err.error, err.detail) if isinstance(err, ErrorReply)
            else (err.error.code, err.error.message)
        )  # fmt: skip
        if code not in HTTP_STATUS:  # a code this build does not know: its status says
            code = _CODES.get(response.status_code, ErrorCode.BACKEND)
        return DomainError(code, detail)
    if response.status_code == 429:
        return DomainError(ErrorCode.RATE_LIMITED, f"the template registry at {url} asks to wait")
    if response.status_code in (502, 503, 504):
        return DomainError(
            ErrorCode.UNAVAILABLE, f"the template registry at {url} is not available now"
        )
    return DomainError(
        ErrorCode.BACKEND, f"the template registry at {url} answered HTTP {response.status_code}"
    )
