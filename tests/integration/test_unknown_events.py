"""An event of a type this build does not know (a newer release wrote it) is held, never
skipped: the projection waits at it, and applies it once a build that knows it runs."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from contracts.base import Accepted, Event
from contracts.expert import CreateExpert, ExpertView, GetExpert, Profile
from runtime import codec
from runtime.headers import EVENT_TYPE as H_EVENT_TYPE
from runtime.headers import TENANT as H_TENANT
from runtime.projector import Pacing
from runtime.rpc import DomainError, request
from tests.integration.test_projector_faults import expert_row
from tests.support.views import differences, snapshot
from tests.support.waiting import until

pytestmark = pytest.mark.integration

TAG = f"expert.ExpertRetired{uuid.uuid4().hex[:6]}"  # a type no build of this session knows


async def test_an_unknown_event_is_held_until_a_build_knows_it(services, nc):
    host = services["expert"]
    projector = host.projectors["expert.experts"]
    # every projection of the EXPERT stream holds the event (a read waits for all of them), so
    # each tries again soon once the build knows it
    paced = {name: p.pacing for name, p in host.projectors.items()}
    for p in host.projectors.values():
        p.pacing = Pacing(hold_retry_s=0.1, idle_s=0.3)
    js = nc.jetstream()
    try:
        retired = uuid.uuid4().hex[:12]
        body = msgspec.json.encode({"type": TAG, "expert_id": retired, "reason": "moved on"})
        headers = {H_EVENT_TYPE: TAG, H_TENANT: "local", "Nats-Msg-Id": str(uuid.uuid4())}
        held = (await js.publish(f"evt.expert.local.expert.{retired}", body, headers=headers)).seq
        later = await request(
            nc, "cmd.expert.create", CreateExpert(profile=Profile(name="after it")), Accepted
        )

        async def waiting():
            health = await projector.health()
            return health if health.state == "waiting" else None

        health = await until(waiting, what="the projection to hold the event")
        assert health.detail == f"held at EXPERT {held}: needs a newer build for {TAG}"
        assert health.checkpoints["EXPERT"] == held - 1 and health.lag >= 2
        assert await expert_row(host, later.id) is None  # nothing past it is applied
        with pytest.raises(DomainError) as behind:
            query = GetExpert(expert_id=later.id, after_seq=later.seq)
            await request(nc, "qry.expert.get", query, ExpertView, timeout=10)
        assert behind.value.code == "unavailable"

        class ExpertRetired(Event, frozen=True, tag=TAG):  # the upgrade: a build that knows it
            expert_id: str
            reason: str = ""

        codec.register_events(ExpertRetired)
        view = await request(
            nc, "qry.expert.get", GetExpert(expert_id=later.id, after_seq=later.seq), ExpertView
        )
        assert view.name == "after it"
        assert (await projector.health()).state == "running"
        live = await snapshot(host)
        await host.rebuild()
        rebuilt = await snapshot(host)
        assert rebuilt == live, differences(live, rebuilt, host.context)  # they agree
    finally:
        for name, pacing in paced.items():
            host.projectors[name].pacing = pacing
