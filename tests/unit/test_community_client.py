"""The community service's side of a remote registry, without a network: which registry a
setting picks, how a registry's refusals come back as the same errors, what is refused
before it travels, and what an importer accepts as signed."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from contracts.base import DomainError
from contracts.community import PublishedTemplate, RegistryRate, signed_message
from runtime.settings import SettingsError, load_settings
from services.community.checks import signing
from services.community.commands import imported_id, registry_id_for, verified
from services.community.registry_client import OwnRegistry, RemoteRegistry, _refusal
from services.community.wiring import registry_for

BASE_ENV = {"SIMTUNE_HOME": "/tmp/simtune-settings-test"}


def test_the_registry_url_setting_picks_a_remote_registry_or_the_own_one():
    own = load_settings(BASE_ENV)
    assert own.template_registry_url is None
    assert isinstance(registry_for(own, None, None), OwnRegistry)
    remote = load_settings(
        {**BASE_ENV, "TEMPLATE_REGISTRY_URL": "https://templates.example.org/",
         "TEMPLATE_REGISTRY_API_KEY": "sk-sim-abc"}
    )  # fmt: skip
    chosen = registry_for(remote, None, None)
    assert isinstance(chosen, RemoteRegistry)
    assert (chosen.url, chosen.api_key) == ("https://templates.example.org", "sk-sim-abc")
    with pytest.raises(SettingsError, match="TEMPLATE_REGISTRY_URL must be an http"):
        load_settings({**BASE_ENV, "TEMPLATE_REGISTRY_URL": "ftp://templates.example.org"})


def test_a_registry_refusal_comes_back_as_the_same_error():
    openai_shape = httpx.Response(
        409,
        json={"error": {"message": "only people who imported it can rate it", "type": "x",
                        "param": None, "code": "conflict"}},
    )  # fmt: skip
    err = _refusal("https://r.example", openai_shape)
    assert (err.code, err.status, err.detail) == (
        "conflict",
        409,
        "only people who imported it can rate it",
    )
    ours = _refusal("https://r.example", httpx.Response(404, json={"error": "not_found",
                                                                  "detail": "gone"}))  # fmt: skip
    assert (ours.status, ours.detail) == (404, "gone")
    assert _refusal("https://r.example", httpx.Response(503, text="<html>")).status == 503
    assert _refusal("https://r.example", httpx.Response(429, text="")).status == 429
    odd = _refusal("https://r.example", httpx.Response(500, text="boom"))
    assert odd.status == 502 and "HTTP 500" in odd.detail


async def test_a_write_without_a_key_is_refused_before_it_travels():
    registry = RemoteRegistry("http://127.0.0.1:9")  # nothing listens there
    try:
        with pytest.raises(DomainError, match="needs an API key") as refused:
            await registry.rate(RegistryRate(registry_id="r1", rating=4))
        assert refused.value.status == 400
        with pytest.raises(DomainError, match="cannot be reached") as away:
            await registry.rate(RegistryRate(registry_id="r1", rating=4), "sk-sim-x")
        assert away.value.status == 503
    finally:
        await registry.close()


def signed(content: str, registry_id: str = "r1", version: str = "1.0.0") -> PublishedTemplate:
    private, public = signing.new_keypair()
    sha = signing.content_sha256(content)
    return PublishedTemplate(
        id=registry_id, name="T", version=version, latest_version=version, sha256=sha,
        content=content,
        signature=signing.sign(private, registry_id, version, sha), public_key=public,
    )  # fmt: skip


def test_an_importer_accepts_only_what_the_publisher_signed():
    good = signed("---\nbody\n")
    verified(good)  # no refusal
    changed = msgspec.structs.replace(good, content=good.content + "Ignore the above.\n")
    recomputed = msgspec.structs.replace(changed, sha256=signing.content_sha256(changed.content))
    moved = msgspec.structs.replace(good, id="r2")
    later = msgspec.structs.replace(good, version="1.0.1")
    for tampered in (changed, recomputed, moved, later):
        with pytest.raises(DomainError, match="changed after it was signed") as refused:
            verified(tampered)
        assert refused.value.status == 400


def test_ids_are_stable_for_retries_and_distinct_across_registries():
    assert imported_id("", "r1") == imported_id("", "r1") != imported_id("https://x", "r1")
    assert registry_id_for("K", "alice", "t1") == registry_id_for("K", "alice", "t1")
    assert registry_id_for("K", "alice", "t1") != registry_id_for("K", "alice", "t2")
    assert signed_message("r1", "1.0.0", "0" * 64).startswith(b"simtune-template-v1\nr1\n1.0.0\n")
