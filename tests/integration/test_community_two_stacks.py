"""Two Simtunes on one machine, each every component a real process: a registry instance, and a
client instance whose `TEMPLATE_REGISTRY_URL` points at it (with an API key of the registry's
instance in `TEMPLATE_REGISTRY_API_KEY`).

A template published on the registry is found by the client's hub, imported there in under
2 s (its signature verified, the copy stored with its version), and with the registry stopped
the client's hub still lists it, cached, and says it is offline; the imported copy still
opens.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.support.devstack import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

IMPORT_WITHIN_S = 2.0


def template(marker: str) -> str:
    return (
        "---\n"
        f"name: Harbour method {marker}\n"
        "description: Reads the tide tables before it answers.\n"
        "domain: harbours\n"
        "methodology: stepwise\n"
        "keywords: [tides, harbours]\n"
        "version: 1.0.0\n"
        "---\n"
        f"First read the tide table, then answer. ({marker})\n"
    )


async def test_publish_on_one_instance_import_on_another_and_read_the_cache_offline():
    marker = uuid.uuid4().hex[:8]
    registry_stack = running_stack("simtune-registry-", {})
    registry = await registry_stack.__aenter__()
    try:
        async with httpx.AsyncClient(
            base_url=registry.base_url, timeout=60.0, headers=registry.owner.headers
        ) as on_registry:
            made = await on_registry.post("/api/templates", json={"content": template(marker)})
            assert made.status_code == 201, made.text
            published = await on_registry.post(
                f"/api/templates/{made.json()['id']}/publish", json={"author": "Harbour guild"}
            )
            assert published.status_code == 200, published.text
            registry_id = published.json()["registry_id"]

        client_env = {
            "TEMPLATE_REGISTRY_URL": registry.base_url,
            "TEMPLATE_REGISTRY_API_KEY": registry.owner.key,
        }
        async with (
            running_stack("simtune-client-", client_env) as client,
            httpx.AsyncClient(
                base_url=client.base_url, timeout=60.0, headers=client.owner.headers
            ) as on_client,
        ):
            found = await on_client.get("/api/community/templates", params={"q": marker})
            assert found.status_code == 200, found.text
            listing = found.json()
            assert listing["offline"] is False
            assert [item["id"] for item in listing["items"]] == [registry_id]
            assert listing["items"][0]["author"] == "Harbour guild"

            started = time.perf_counter()
            imported = await on_client.post(
                f"/api/community/templates/{registry_id}/import", json={}
            )
            took = time.perf_counter() - started
            assert imported.status_code == 201, imported.text
            assert took < IMPORT_WITHIN_S, f"the import took {took:.2f} s"
            copy = imported.json()
            assert copy["imported_from"]["registry_id"] == registry_id
            assert copy["imported_from"]["version"] == "1.0.0"
            assert marker in copy["content"]

            # the registry goes away: the hub lists what it cached, and says so
            await registry_stack.__aexit__(None, None, None)
            registry_stack = None
            offline = await on_client.get("/api/community/templates", params={"q": marker})
            assert offline.status_code == 200, offline.text
            assert offline.json()["offline"] is True
            assert registry_id in [item["id"] for item in offline.json()["items"]]
            opened = await on_client.get(f"/api/templates/{copy['id']}")
            assert opened.status_code == 200 and marker in opened.json()["content"]
    finally:
        if registry_stack is not None:
            await registry_stack.__aexit__(None, None, None)
