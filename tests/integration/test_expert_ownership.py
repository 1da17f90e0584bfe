"""Deleting an expert deletes everything it owns; concurrent edits never lose an update."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from tests.integration.test_gateway import book, new_expert, settled, upload

pytestmark = pytest.mark.integration


async def test_deleting_an_expert_removes_its_documents_and_their_passages(api, stack):
    expert = (await new_expert(api))["id"]
    uploaded = await upload(
        api, expert, ("lighthouse.pdf", book()), ("note.txt", b"Varnholm has a lens.")
    )
    assert uploaded.status_code == 202, uploaded.text
    ids = [d["id"] for d in uploaded.json()["documents"]]
    for doc_id in ids:
        assert (await settled(api, doc_id))["status"] == "ready"
    assert (await api.get(f"/api/experts/{expert}/search", params={"q": "Varnholm lens"})).json()[
        "results"
    ]

    assert (await api.delete(f"/api/experts/{expert}")).status_code == 204
    deadline = asyncio.get_running_loop().time() + 30
    while [d for d in ids if (await api.get(f"/api/documents/{d}")).status_code != 404]:
        assert asyncio.get_running_loop().time() < deadline, "documents outlived their expert"
        await asyncio.sleep(0.2)
    await stack.caught_up()
    async with stack.hosts["knowledge"].engine.connect() as conn:
        left = await conn.execute(
            text("SELECT count(*) FROM knowledge.chunks WHERE expert_id = :e"), {"e": expert}
        )
        assert left.scalar() == 0


async def test_two_concurrent_edits_of_the_same_version_one_wins_the_other_gets_409(api):
    """Two people opened version 1 and both save: the second must not silently overwrite."""
    expert = (await new_expert(api))["id"]
    results = await asyncio.gather(
        *(
            api.patch(f"/api/experts/{expert}", json={"domain": d}, headers={"If-Match": '"1"'})
            for d in ("law", "medicine")
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["error"] == "conflict" and "changed" in loser["detail"]
    winner = next(r for r in results if r.status_code == 200).json()
    assert (await api.get(f"/api/experts/{expert}")).json()["domain"] == winner["domain"]
