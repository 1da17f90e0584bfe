"""A person's provider keys on the real stack: the model server's API key goes on the log
sealed with its owner's data key (another person's key does not open it) and still reaches
the model; a key sealed the old way, install-wide, keeps working; a base_url at a cloud
metadata address is refused with 400, for the expert's backend and the hosted provider."""

from __future__ import annotations

import pytest

from contracts.answers import BackendConfigured
from contracts.expert import AGGREGATE, CONTEXT
from runtime.db import make_engine
from runtime.keyring import Forgotten, ProviderKeys
from runtime.secrets import SecretBox, SecretUnreadable
from services.expert.aggregates import EXPERT
from services.expert.backends import API_KEY_PURPOSE
from tests.support.accounts import person
from tests.support.api import new_expert
from tests.support.scripted_llm import scripted_model

pytestmark = pytest.mark.integration

KEY = "sk-byok-test-5e4d3c2b1a09"


@pytest.fixture
async def keys(stack):
    """The keyring as another process of the install sees it (its own engine and cache)."""
    engine = make_engine(stack.settings.database_url, pool_size=2)
    yield ProviderKeys.of(stack.settings, engine)
    await engine.dispose()


async def stored_backend(stack, tenant: str, expert_id: str) -> BackendConfigured:
    events, _ = await stack.hosts["expert"].store.load(CONTEXT, tenant, AGGREGATE, expert_id)
    return [r.event for r in events if isinstance(r.event, BackendConfigured)][-1]


async def ask(api, expert_id: str):
    return await api.post(f"/api/experts/{expert_id}/ask", json={"question": "Which tower?"})


async def test_a_backend_key_is_sealed_with_its_owners_data_key(api, stack, nc, keys):
    owner = stack.owner
    async with scripted_model(KEY, lambda messages: "The Quillmark tower.") as llm:
        expert = await new_expert(api)
        body = {"kind": "openai", "base_url": llm.url, "model": "scripted", "api_key": KEY}
        assert (await api.put(f"/api/experts/{expert['id']}/backend", json=body)).is_success
        answered = await ask(api, expert["id"])  # the model saw the right key
        assert answered.status_code == 200, answered.text
        assert "Quillmark" in answered.json()["answer"]

    sealed = (await stored_backend(stack, owner.tenant, expert["id"])).api_key_sealed
    assert sealed.startswith("v2:") and KEY not in sealed
    assert await keys.open(owner.tenant, sealed, API_KEY_PURPOSE) == KEY
    with pytest.raises(SecretUnreadable):  # not an old install-wide token either
        SecretBox.open(stack.settings.home, stack.settings.secret_key).unseal(sealed)

    someone = await person(nc)
    await keys.seal(someone.tenant, "their own key", API_KEY_PURPOSE)  # they have a data key
    with pytest.raises(SecretUnreadable) as other:
        await keys.open(someone.tenant, sealed, API_KEY_PURPOSE)
    assert not isinstance(other.value, Forgotten)  # their key exists; it is not the owner's


async def test_a_key_sealed_before_the_keyring_still_reaches_the_model(api, stack):
    owner = stack.owner
    legacy = SecretBox.open(stack.settings.home, stack.settings.secret_key)
    async with scripted_model(KEY, lambda messages: "The Quillmark tower.") as llm:
        expert = await new_expert(api)
        old = BackendConfigured(  # as an event written by an earlier version holds it
            expert_id=expert["id"],
            kind="openai",
            base_url=llm.url,
            model="scripted",
            api_key_sealed=legacy.seal(KEY),
            key_id=legacy.key_id,
        )
        await EXPERT.execute(stack.hosts["expert"].store, owner.tenant, expert["id"], lambda s: old)
        answered = await ask(api, expert["id"])
        assert answered.status_code == 200, answered.text
        assert "Quillmark" in answered.json()["answer"]
        assert len(llm.requests) >= 1


@pytest.mark.parametrize(
    "base_url, address",
    [
        ("http://169.254.169.254/v1", "169.254.169.254"),
        ("http://metadata.google.internal/v1", "metadata.google.internal"),
        ("http://[fd00:ec2::254]/v1", "fd00:ec2::254"),
        ("http://2852039166/v1", "169.254.169.254"),  # the same address, written as a number
    ],
)
async def test_a_base_url_at_a_metadata_address_is_refused(api, base_url, address):
    expert = await new_expert(api)
    body = {"kind": "openai", "base_url": base_url, "model": "m", "api_key": KEY}
    refused = await api.put(f"/api/experts/{expert['id']}/backend", json=body)
    assert refused.status_code == 400, refused.text
    detail = refused.json()["detail"]
    assert address in detail and "SIMTUNE_ALLOWED_BACKEND_HOSTS" in detail
    shown = await api.get(f"/api/experts/{expert['id']}/backend")
    assert shown.json()["kind"] == "local"  # nothing was decided

    hosted = {"base_url": base_url, "model": "gpt-mini", "api_key": KEY}
    config = await api.put(
        "/api/finetune/config", params={"expert_id": expert["id"]}, json={"hosted": hosted}
    )
    assert config.status_code == 400 and address in config.json()["detail"]


async def test_a_backend_on_the_machine_itself_stays_allowed(api):
    expert = await new_expert(api)
    body = {"kind": "ollama", "base_url": "http://localhost:11434", "model": "llama3"}
    allowed = await api.put(f"/api/experts/{expert['id']}/backend", json=body)
    assert allowed.status_code == 200, allowed.text
