"""Templates through the gateway, on the real stack (services, NATS, Postgres).

- A template applied to an expert shapes the system prompt the model receives in every mode
  (RAG, closed-book, prompt-tuned, a draft), follows the template's latest version, and each
  trace names the version that answered; removed, it is gone from the next prompt.
- Another person's template answers as a missing one (404), on every route that takes one.
- The registry's public API: anonymous reads work, an anonymous write is refused (401), and
  the 101st anonymous request from one address within an hour gets 429 with Retry-After (a
  second gateway with the default limit: the session's own has it off); a request with an
  API key is not counted.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.accounts import owner, person
from tests.support.api import new_expert, settled, upload
from tests.support.gateway_at import gateway_at
from tests.support.scripted_llm import scripted_model
from tests.support.waiting import until

pytestmark = pytest.mark.integration

KEY = "sk-simtune-test-templates-5e1f"
DEFAULT_ANONYMOUS_LIMIT = 100


def template(marker: str, version: str = "1.0.0", name: str = "Three-step reasoner") -> str:
    return (
        "---\n"
        f"name: {name}\n"
        "description: Reasons in numbered steps before it answers.\n"
        "domain: tides\n"
        "methodology: stepwise\n"
        "keywords: [steps, tides]\n"
        f"version: {version}\n"
        "---\n"
        "# Method\n\n"
        f"Reason in three numbered steps, then answer. Sign each answer {marker}.\n"
    )


async def new_template(api: httpx.AsyncClient, content: str) -> dict:
    created = await api.post("/api/templates", json={"content": content})
    assert created.status_code == 201, created.text
    return created.json()


async def use_scripted(api: httpx.AsyncClient, expert_id: str, llm) -> None:
    body = {"kind": "openai", "base_url": llm.url, "model": "scripted", "api_key": KEY}
    reply = await api.put(f"/api/experts/{expert_id}/backend", json=body)
    assert reply.status_code == 200, reply.text


def system_prompt(llm) -> str:
    sent = llm.requests[-1]["messages"]
    assert sent[0]["role"] == "system", sent
    return sent[0]["content"]


async def answer_in_every_mode(api: httpx.AsyncClient, expert_id: str) -> list[dict]:
    """A RAG, a closed-book and a prompt-tuned answer, and a draft; each reply."""
    replies = []
    for mode in ("rag", "closed", "prompt_tuned"):
        body = {"question": "When does the tide turn?", "mode": mode, "max_tokens": 16}
        reply = await api.post(f"/api/experts/{expert_id}/ask", json=body)
        assert reply.status_code == 200, (mode, reply.text)
        replies.append(reply.json())
    drafted = await api.post(
        f"/api/experts/{expert_id}/drafts", json={"prompt": "A note on the tides", "max_tokens": 16}
    )
    assert drafted.status_code == 200, drafted.text
    replies.append(drafted.json())
    return replies


async def test_an_applied_template_shapes_every_prompt_and_the_trace_names_its_version(api):
    expert = await new_expert(api, name="Tide reader", domain="tides")
    [doc] = (
        await upload(api, expert["id"], ("tides.txt", b"The tide turns at noon in Varnholm."))
    ).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    async with scripted_model(KEY, lambda messages: "In three steps: noon.") as llm:
        await use_scripted(api, expert["id"], llm)
        await answer_in_every_mode(api, expert["id"])
        assert "QUILL-7" not in system_prompt(llm)

        made = await new_template(api, template("QUILL-7"))
        applied = await api.post(
            f"/api/experts/{expert['id']}/template", json={"template_id": made["id"]}
        )
        assert applied.status_code == 200, applied.text
        assert applied.json()["template_id"] == made["id"]
        assert applied.json()["version"] == "1.0.0"

        sent_before = len(llm.requests)
        replies = await answer_in_every_mode(api, expert["id"])
        prompts = [r["messages"][0]["content"] for r in llm.requests[sent_before:]]
        assert len(prompts) == 4
        for mode, prompt in zip(("rag", "closed", "prompt_tuned", "draft"), prompts, strict=True):
            assert "Reason in three numbered steps" in prompt and "QUILL-7" in prompt, mode
            assert "Tide reader" in prompt, mode  # the persona is still there
            assert "version: 1.0.0" not in prompt, mode  # the front matter is not
        for reply in replies:
            trace = (await api.get(f"/api/answers/{reply['answer_id']}")).json()
            assert trace["template"] == {"template_id": made["id"], "version": "1.0.0"}, trace

        # a new version: the expert follows the template's latest
        edited = await api.put(
            f"/api/templates/{made['id']}",
            json={"content": template("HERON-9", "1.1.0"), "expected_version": "1.0.0"},
        )
        assert edited.status_code == 200, edited.text
        reply = await api.post(
            f"/api/experts/{expert['id']}/ask", json={"question": "And tomorrow?", "mode": "closed"}
        )
        assert reply.status_code == 200, reply.text
        assert "HERON-9" in system_prompt(llm) and "QUILL-7" not in system_prompt(llm)
        trace = (await api.get(f"/api/answers/{reply.json()['answer_id']}")).json()
        assert trace["template"] == {"template_id": made["id"], "version": "1.1.0"}

        # pinned to the first version, then removed
        pinned = await api.post(
            f"/api/experts/{expert['id']}/template",
            json={"template_id": made["id"], "version": "1.0.0"},
        )
        assert pinned.status_code == 200 and pinned.json()["version"] == "1.0.0", pinned.text
        await api.post(
            f"/api/experts/{expert['id']}/ask", json={"question": "Now?", "mode": "closed"}
        )
        assert "QUILL-7" in system_prompt(llm) and "HERON-9" not in system_prompt(llm)

        removed = await api.post(
            f"/api/experts/{expert['id']}/template", json={"template_id": None}
        )
        assert removed.status_code == 200 and removed.json()["template_id"] is None, removed.text
        reply = await api.post(
            f"/api/experts/{expert['id']}/ask", json={"question": "Later?", "mode": "closed"}
        )
        assert "QUILL-7" not in system_prompt(llm)
        trace = (await api.get(f"/api/answers/{reply.json()['answer_id']}")).json()
        assert trace["template"] is None


async def test_another_persons_template_answers_as_a_missing_one(stack, nc):
    a, b = await owner(nc), await person(nc)
    async with (
        httpx.AsyncClient(base_url=stack.url, timeout=30.0, headers=a.headers) as as_a,
        httpx.AsyncClient(base_url=stack.url, timeout=30.0, headers=b.headers) as as_b,
    ):
        theirs = await new_template(as_a, template("PRIVATE-1", name="A's private method"))
        mine = await new_expert(as_b, name="B's expert")
        for method, url, body in [
            ("GET", f"/api/templates/{theirs['id']}", None),
            ("PUT", f"/api/templates/{theirs['id']}",
             {"content": template("X", "2.0.0"), "expected_version": "1.0.0"}),
            ("POST", f"/api/templates/{theirs['id']}/fork", None),
            ("POST", f"/api/templates/{theirs['id']}/publish", {}),
            ("DELETE", f"/api/templates/{theirs['id']}", None),
            ("POST", f"/api/experts/{mine['id']}/template", {"template_id": theirs["id"]}),
        ]:  # fmt: skip
            seen = await as_b.request(method, url, json=body)
            missing = await as_b.request(
                method, url.replace(theirs["id"], "missing-0000"), json=body
            )
            assert seen.status_code == missing.status_code == 404, (method, url, seen.text)
            assert seen.json()["error"] == missing.json()["error"]
        listed = (await as_b.get("/api/templates")).json()
        assert theirs["id"] not in str(listed)
        still = await as_a.get(f"/api/templates/{theirs['id']}")
        assert still.status_code == 200 and "PRIVATE-1" in still.json()["content"]


async def test_the_registry_is_open_to_read_closed_to_write_and_limits_anonymous_readers(
    servers, services, nc
):
    publisher = await owner(nc)

    def settings_for(port: int):  # the session's gateway has the limit off; this one does not
        return servers.settings(
            SIMTUNE_PUBLIC_URL=f"http://127.0.0.1:{port}",
            SIMTUNE_ANONYMOUS_REQUESTS_PER_IP=str(DEFAULT_ANONYMOUS_LIMIT),
        )

    async with (
        gateway_at(settings_for) as settings,
        httpx.AsyncClient(base_url=settings.public_url, timeout=30.0) as anonymous,
        httpx.AsyncClient(
            base_url=settings.public_url, timeout=30.0, headers=publisher.headers
        ) as signed_in,
    ):
        marker = uuid.uuid4().hex[:8]
        made = await new_template(signed_in, template(f"PUBLIC-{marker}", name=f"Tides {marker}"))
        published = await signed_in.post(f"/api/templates/{made['id']}/publish", json={})
        assert published.status_code == 200, published.text
        registry_id = published.json()["registry_id"]

        async def searched() -> list[str] | None:  # with a key: not counted
            found = await signed_in.get("/v1/templates", params={"q": marker})
            assert found.status_code == 200, found.text
            return [item["id"] for item in found.json()["items"]] or None

        assert await until(searched, timeout=20, what="the registry's search finding it")

        # anonymous reads: search, one template, its versions
        found = await anonymous.get("/v1/templates", params={"q": marker})
        assert found.status_code == 200, found.text
        assert [item["id"] for item in found.json()["items"]] == [registry_id]
        one = await anonymous.get(f"/v1/templates/{registry_id}")
        assert one.status_code == 200 and f"PUBLIC-{marker}" in one.json()["content"]
        assert one.json()["signature"] and one.json()["public_key"]
        versions = await anonymous.get(f"/v1/templates/{registry_id}/versions")
        assert [v["version"] for v in versions.json()["versions"]] == ["1.0.0"]

        # an anonymous write: 401, in OpenAI's shape as on every /v1 route
        written = await anonymous.post(f"/v1/templates/{registry_id}/rate", json={"rating": 5})
        assert written.status_code == 401, written.text
        assert written.json()["error"]["code"] == "invalid_api_key"
        unpublished = await anonymous.delete(f"/v1/templates/{registry_id}")
        assert unpublished.status_code == 401

        # up to the limit an address reads on; the 101st request in the hour is refused
        for _ in range(DEFAULT_ANONYMOUS_LIMIT - 3):
            read = await anonymous.get(f"/v1/templates/{registry_id}/versions")
            assert read.status_code == 200, read.text
        refused = await anonymous.get("/v1/templates")
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) > 0
        error = refused.json()["error"]
        assert error["code"] == "rate_limited"
        assert "SIMTUNE_ANONYMOUS_REQUESTS_PER_IP" in error["message"]
        assert "at most 100" in error["message"]

        # with an API key of this instance, the same address reads on, uncounted
        keyed = await signed_in.get("/v1/templates", params={"q": marker})
        assert keyed.status_code == 200, keyed.text
        # and a made-up key is no way around the limit
        guessed = await anonymous.get(
            "/v1/templates", headers={"Authorization": "Bearer sk-sim-made-up"}
        )
        assert guessed.status_code == 429
