"""Reading `GET /api/events` as a browser's EventSource does: block by block, keeping the
last `id:` so that a reconnect can resume with `Last-Event-ID`."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import httpx


class EventReader:
    """Reads an SSE response block by block, like a browser's EventSource would."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.last_id: str | None = None

    async def block(self, timeout: float = 30.0) -> dict:
        fields: dict = {"comments": []}
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                if line == "":
                    if len(fields) > 1 or fields["comments"]:
                        return fields
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    fields["comments"].append(value)
                elif name == "data":
                    fields["data"] = f"{fields['data']}\n{value}" if "data" in fields else value
                else:
                    fields[name] = value
                if name == "id":
                    self.last_id = value
        raise AssertionError("the event stream ended")

    async def event(self, timeout: float = 30.0) -> dict:
        """The next block that carries data."""
        while True:
            block = await self.block(timeout)
            if block.get("data"):
                return block

    async def until(self, predicate, timeout: float = 60.0) -> list[dict]:
        """Events (data decoded as JSON) up to and including the first one matching."""
        seen = []
        async with asyncio.timeout(timeout):
            while True:
                event = await self.event(timeout)
                event["json"] = json.loads(event["data"])
                seen.append(event)
                if predicate(event["json"]):
                    return seen


@asynccontextmanager
async def sse(api: httpx.AsyncClient, url: str, **headers: str):
    async with api.stream("GET", url, headers=headers, timeout=None) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        first = await reader.block()  # the stream is live once this arrives
        reader.first = first
        yield reader
