"""An expert's document list comes in pages: oldest first, each page saying where the next
begins, nothing lost or repeated, in the API, the console and the CLI."""

from __future__ import annotations

import pytest

from tests.support.api import HTML, new_expert, upload

pytestmark = pytest.mark.integration

FILES = 7


@pytest.fixture(scope="module")
async def library(stack) -> tuple[dict, list[str]]:
    import httpx

    async with httpx.AsyncClient(
        base_url=stack.url, timeout=30.0, headers=stack.owner.headers
    ) as api:
        expert = await new_expert(api)
        ids = []
        for n in range(FILES):  # one by one, so their order is known
            reply = await upload(api, expert["id"], (f"note-{n}.txt", f"Note number {n}.".encode()))
            assert reply.status_code == 202, reply.text
            ids.append(reply.json()["documents"][0]["id"])
    return expert, ids


async def test_pages_follow_each_other_without_gaps_or_repeats(api, library):
    expert, ids = library
    url, params, seen, pages = f"/api/experts/{expert['id']}/documents", {"limit": 3}, [], 0
    while True:
        response = await api.get(url, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= 3
        seen += [doc["id"] for doc in page]
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
        params = {"limit": 3, "after": cursor}
    assert seen == ids and pages == 3


async def test_the_default_page_holds_a_small_library_whole(api, library):
    expert, ids = library
    response = await api.get(f"/api/experts/{expert['id']}/documents")
    assert [doc["id"] for doc in response.json()] == ids
    assert "x-next-cursor" not in response.headers


@pytest.mark.parametrize(
    ("params", "word"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"after": "not a cursor"}, "after")],
)
async def test_bad_paging_is_a_400_naming_the_parameter(api, library, params, word):
    expert, _ = library
    response = await api.get(f"/api/experts/{expert['id']}/documents", params=params)
    assert response.status_code == 400, response.text
    assert word in response.json()["detail"]


async def test_a_later_page_in_the_console(api, library):
    expert, ids = library
    first = await api.get(f"/experts/{expert['id']}", headers=HTML)
    assert first.status_code == 200
    assert all(doc_id in first.text for doc_id in ids)  # 7 fit on the first page
    response = await api.get(f"/api/experts/{expert['id']}/documents", params={"limit": 2})
    cursor = response.headers["x-next-cursor"]
    later = await api.get(f"/experts/{expert['id']}", params={"after": cursor}, headers=HTML)
    assert later.status_code == 200
    assert ids[0] not in later.text and ids[2] in later.text
    assert "Back to the first documents" in later.text
