"""Projections: rebuilt from the log they equal the live ones; a redelivered event is applied once."""

from __future__ import annotations

import asyncio

import pytest

from contracts.base import Accepted
from contracts.benchmark import BenchSettings, ConfigureBench
from contracts.dataset import BuildDataset, BuildSpec, ManualExample, Sources
from contracts.expert import CreateExpert, DeleteExpert, Profile, ProfilePatch, UpdateExpert
from runtime.projector import Projector
from runtime.rpc import DomainError, request
from tests.support import pdfs
from tests.support.flows import built_examples, create_expert, upload, wait_settled
from tests.support.templates import published, template_text
from tests.support.versions import activate, new_versions
from tests.support.views import snapshot

pytestmark = pytest.mark.integration


async def some_history(nc, base_model, tmp) -> None:
    """Something in every service's read model, so the test needs no other test before it."""
    expert = await create_expert(nc, "Historian")
    await request(
        nc,
        "cmd.expert.update",
        UpdateExpert(expert_id=expert, changes=ProfilePatch(domain="history")),
        Accepted,
    )
    doomed = await create_expert(nc, "Doomed")
    await request(nc, "cmd.expert.delete", DeleteExpert(expert_id=doomed), Accepted)
    kept = await upload(
        nc,
        expert,
        "kept.pdf",
        pdfs.make_pdf(["The treaty was signed in 1648.", "Aftermath."]),
        "application/pdf",
    )
    gone = await upload(nc, expert, "gone.txt", b"A note that will be deleted.", "text/plain")
    bad = await upload(nc, expert, "bad.pdf", pdfs.make_corrupt_pdf(), "application/pdf")
    for reg in (kept, gone, bad):
        await wait_settled(nc, reg.document.id)
    from contracts.ingest import DeleteDocument

    await request(nc, "cmd.ingest.delete", DeleteDocument(document_id=gone.document.id), Accepted)
    manual = [
        ManualExample(question=f"When was treaty {n} signed?", answer="1648.") for n in range(3)
    ]
    spec = BuildSpec(sources=Sources(manual=manual))
    built = await request(
        nc, "cmd.dataset.build", BuildDataset(expert_id=expert, spec=spec), Accepted
    )
    assert len(await built_examples(nc, built)) == 3
    (version,) = await new_versions(nc, base_model, tmp, expert, seeds=(3,))
    await activate(nc, expert, version)
    settings = BenchSettings(margin_points=3.0, after_training=False)
    await request(nc, "cmd.benchmark.configure", ConfigureBench(expert_id=expert, settings=settings),
                  Accepted)  # fmt: skip
    await published(nc, template_text("Historian's method"))  # a template, published


async def test_every_projection_rebuilt_from_the_log_equals_the_live_one(
    services, nc, servers, tmp_path
):
    await some_history(nc, servers.base_model, tmp_path)
    for host in services.values():
        await host.wait_caught_up()
    for host in services.values():
        live = await snapshot(host)
        assert any(live), f"{host.context} projection is empty; the test proves nothing"
        replayed = await host.rebuild()
        assert sum(replayed.projections.values()) > 0
        assert await snapshot(host) == live, f"{host.context} differs after rebuild"


async def test_the_same_event_delivered_twice_is_applied_once(services, nc):
    host = services["expert"]
    await create_expert(nc, "Once")
    await host.wait_caught_up()
    projector: Projector = host.projectors["expert.experts"]
    js = nc.jetstream()
    # Re-read the whole stream as a second delivery of every event and hand it to the projector.
    sub = await js.pull_subscribe("evt.expert.>", stream="EXPERT")
    info = await js.stream_info("EXPERT")
    msgs = await sub.fetch(info.state.last_seq, timeout=5)
    before = await snapshot(host)
    applied = await projector._apply_batch("EXPERT", msgs)
    assert applied == []
    assert await snapshot(host) == before
    await sub.unsubscribe()


async def test_two_concurrent_updates_one_wins_one_conflicts(services, nc):
    expert = await create_expert(nc)
    updates = [
        request(
            nc,
            "cmd.expert.update",
            UpdateExpert(expert_id=expert, changes=ProfilePatch(domain=d)),
            Accepted,
        )
        for d in ("law", "medicine")
    ]
    results = await asyncio.gather(*updates, return_exceptions=True)
    wins = [r for r in results if isinstance(r, Accepted)]
    conflicts = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(conflicts) == 1
    assert conflicts[0].code == "conflict" and conflicts[0].status == 409


async def test_create_with_an_existing_id_is_refused(services, nc):
    cmd = CreateExpert(expert_id="fixed-id-1", profile=Profile(name="A"))
    await request(nc, "cmd.expert.create", cmd, Accepted)
    try:
        await request(nc, "cmd.expert.create", cmd, Accepted)
    except DomainError as err:
        assert err.code == "conflict"
    else:
        raise AssertionError("a second create with the same id must be refused")
