"""The community's HTTP API as `API.md` names it, on the real stack (gateway, services, NATS,
Postgres): the paths, the query parameters and the fields clients rely on.

- Search (`GET /v1/templates`, and the hub's `GET /api/community/templates`) filters by
  domain, methodology and author as well as by words (FR-CT-11), each filter narrowing the
  results to the templates that have it; a filter longer than its contract allows is a 400.
- A template is answered flat: `POST|GET /api/templates…` with `id, name, version, ...` at
  the top, `GET /v1/templates/{id}` and each listed item with `id, name, description,
  domain, methodology, keywords, author, version, updated_at, download_count, avg_rating,
  review_count` (the template adds `content` and `published_at`); publishing answers
  `{registry_id, version}`.
- Rating takes `{rating}` (1–5) and a review `{rating, comment ≤ 500}`; the old names and
  values out of range are refused (400), and what was taken shows on the template.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.accounts import person
from tests.support.waiting import until

pytestmark = pytest.mark.integration

FLAT = {"id", "name", "description", "domain", "methodology", "keywords", "version"}
REGISTRY_FIELDS = FLAT | {"author", "updated_at", "download_count", "avg_rating", "review_count"}
TEMPLATE_FIELDS = REGISTRY_FIELDS | {"content", "published_at"}


def template(name: str, domain: str, methodology: str, version: str = "1.0.0") -> str:
    return (
        f"---\nname: {name}\ndescription: A way to answer.\ndomain: {domain}\n"
        f"methodology: {methodology}\nkeywords: [contract, {domain}]\nversion: {version}\n"
        "---\nAnswer in the way the name says.\n"
    )


async def published(api: httpx.AsyncClient, content: str, author: str) -> tuple[dict, dict]:
    """A template written and published through the API: its view, and the publication."""
    created = await api.post("/api/templates", json={"content": content})
    assert created.status_code == 201, created.text
    done = await api.post(f"/api/templates/{created.json()['id']}/publish", json={"author": author})
    assert done.status_code == 200, done.text
    return created.json(), done.json()


async def found_ids(api: httpx.AsyncClient, path: str, **params: str) -> list[str]:
    reply = await api.get(path, params=params)
    assert reply.status_code == 200, reply.text
    return sorted(item["id"] for item in reply.json()["items"])


async def test_search_filters_by_domain_methodology_and_author(api):
    marker = uuid.uuid4().hex[:8]
    _, first = await published(api, template(f"Filter {marker} one", "law", "socratic"), "Ann")
    _, second = await published(api, template(f"Filter {marker} two", "tides", "stepwise"), "Bob")
    a, b = first["registry_id"], second["registry_id"]

    async def both_listed() -> bool:
        return await found_ids(api, "/v1/templates", q=marker) == sorted([a, b])

    await until(both_listed, timeout=20, what="both templates in the registry's search")
    for path in ("/v1/templates", "/api/community/templates"):
        assert await found_ids(api, path, q=marker, methodology="socratic") == [a], path
        assert await found_ids(api, path, q=marker, methodology="STEPWISE") == [b], path
        assert await found_ids(api, path, q=marker, author="bob") == [b], path
        assert await found_ids(api, path, q=marker, author="Ann") == [a], path
        assert await found_ids(api, path, q=marker, domain="law") == [a], path
        assert await found_ids(api, path, q=marker, methodology="socratic", author="Bob") == []
        too_long = await api.get(path, params={"methodology": "m" * 81})
        assert too_long.status_code == 400, too_long.text
        assert "methodology" in too_long.text, too_long.text


async def test_templates_are_answered_flat_and_rated_and_reviewed_by_their_names(api, stack, nc):
    marker = uuid.uuid4().hex[:8]
    view, done = await published(
        api, template(f"Flat {marker}", "contracts", "checklist"), author="Ann"
    )
    assert view.keys() >= FLAT and "front_matter" not in view
    assert (view["name"], view["version"], view["methodology"]) == (
        f"Flat {marker}",
        "1.0.0",
        "checklist",
    )
    assert view["keywords"] == ["contract", "contracts"]
    again = (await api.get(f"/api/templates/{view['id']}")).json()
    assert again["name"] == f"Flat {marker}" and again["domain"] == "contracts"
    assert {"registry_id", "version"} <= done.keys() and done["version"] == "1.0.0"
    registry_id = done["registry_id"]

    one = await api.get(f"/v1/templates/{registry_id}")
    assert one.status_code == 200, one.text
    shown = one.json()
    assert shown.keys() >= TEMPLATE_FIELDS, sorted(TEMPLATE_FIELDS - shown.keys())
    assert not {"registry_id", "front_matter", "rating_avg", "downloads"} & shown.keys()
    assert (shown["id"], shown["name"], shown["author"]) == (registry_id, f"Flat {marker}", "Ann")
    assert (shown["download_count"], shown["avg_rating"], shown["review_count"]) == (0, None, 0)
    assert "Answer in the way" in shown["content"] and shown["published_at"]
    listing = (await api.get("/v1/templates", params={"q": marker})).json()
    [item] = [i for i in listing["items"] if i["id"] == registry_id]
    assert item.keys() >= REGISTRY_FIELDS and item["name"] == f"Flat {marker}"

    reader = await person(nc)
    async with httpx.AsyncClient(
        base_url=stack.url, timeout=30.0, headers=reader.headers
    ) as as_reader:
        took = await as_reader.get(f"/v1/templates/{registry_id}/download")
        assert took.status_code == 200, took.text
        for body in ({"stars": 5}, {"rating": 0}, {"rating": 6}):
            refused = await as_reader.post(f"/v1/templates/{registry_id}/rate", json=body)
            assert refused.status_code == 400, (body, refused.text)
        rated = await as_reader.post(f"/v1/templates/{registry_id}/rate", json={"rating": 5})
        assert rated.status_code == 200, rated.text
        for body in (
            {"text": "Good."},
            {"comment": "Good."},
            {"rating": 3, "comment": "x" * 501},
        ):
            refused = await as_reader.post(f"/v1/templates/{registry_id}/reviews", json=body)
            assert refused.status_code == 400, (body, refused.text)
        review = {"rating": 3, "comment": "Good, if long."}
        reviewed = await as_reader.post(f"/v1/templates/{registry_id}/reviews", json=review)
        assert reviewed.status_code == 200, reviewed.text

        async def counted() -> dict | None:
            now = (await as_reader.get(f"/v1/templates/{registry_id}")).json()
            return now if now["reviews"] else None

        after = await until(counted, timeout=20, what="the review on the template")
    # the review's rating replaced the earlier one: one rating, of 3
    assert (after["download_count"], after["avg_rating"], after["review_count"]) == (1, 3.0, 1)
    assert [(r["rating"], r["comment"], r["mine"]) for r in after["reviews"]] == [
        (3, "Good, if long.", True)
    ]
