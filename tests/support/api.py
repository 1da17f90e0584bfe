"""Helpers that drive the gateway's HTTP API the way a client (or a browser) does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx

HTML = {"Accept": "text/html"}
HTMX = {"HX-Request": "true"}


async def csrf_token(api: httpx.AsyncClient) -> str:
    """Open the console as a browser would: `api` then holds its CSRF cookie; the token."""
    await api.get("/", headers=HTML)
    return api.cookies["simtune_csrf"]


async def new_expert(api: httpx.AsyncClient, **fields) -> dict:
    body = {"name": f"Expert {uuid.uuid4().hex[:8]}", **fields}
    response = await api.post("/api/experts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def upload(api: httpx.AsyncClient, expert_id: str, *files: tuple[str, bytes]):
    parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
    return await api.post(f"/api/experts/{expert_id}/documents", files=parts)


async def settled(api: httpx.AsyncClient, document_id: str, timeout: float = 90.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await api.get(f"/api/documents/{document_id}")
        assert response.status_code == 200, response.text
        doc = response.json()
        if doc["status"] in ("ready", "rejected"):
            return doc
        assert asyncio.get_running_loop().time() < deadline, f"stuck in {doc['status']}"
        await asyncio.sleep(0.2)


async def linked_section(
    api: httpx.AsyncClient, read: Callable[..., Awaitable[str]], name: str, section: str, link: str
) -> str:
    """A new expert named `name` whose console page links to its `section` page (`link`
    shown there, so a person finds it); returns that page as `read` gives it."""
    expert = await new_expert(api, name=name)
    home = await read(api, f"/experts/{expert['id']}")
    assert f'href="/experts/{expert["id"]}/{section}"' in home and link in home
    return await read(api, f"/experts/{expert['id']}/{section}")


async def ui_post(
    api: httpx.AsyncClient, url: str, data: dict | None = None, *, htmx: bool = False
) -> httpx.Response:
    """Submit a console form as the page would: with its CSRF token (and htmx's header)."""
    token = await csrf_token(api)
    headers = {**HTMX, "X-CSRF-Token": token} if htmx else HTML
    return await api.post(url, data={**(data or {}), "_csrf": token}, headers=headers)


async def quick_answer(api: httpx.AsyncClient, expert_id: str, question: str) -> dict:
    """A short closed-book answer of the session's tiny local model (fast, text is noise)."""
    body = {"question": question, "mode": "closed", "max_tokens": 8}
    response = await api.post(f"/api/experts/{expert_id}/ask", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def dataset_settled(api: httpx.AsyncClient, dataset_id: str, timeout: float = 120.0) -> dict:
    """The dataset version once it is no longer building (ready, failed or cancelled)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = (await api.get(f"/api/datasets/{dataset_id}")).json()
        if view["status"] != "building":
            return view
        assert asyncio.get_running_loop().time() < deadline, f"still building: {view}"
        await asyncio.sleep(0.2)
