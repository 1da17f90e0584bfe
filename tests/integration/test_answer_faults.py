"""The answer side under faults: a trace the scorer cannot score costs that trace only;
scoring that is redone (a redelivery after a crash, a rescore) records one score per scorer
version; an answer whose reader left stops the model and leaves no half-written trace."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contracts.answers import (
    AnswerGiven,
    AnswerReply,
    Ask,
    ConfigureBackend,
    GetAnswer,
    ListTraces,
    RescoreAnswers,
    Rescored,
    TracePage,
    TraceView,
    cancel_subject,
)
from contracts.base import Accepted
from runtime.eventstore import EventStore
from runtime.reactor import Reactor
from runtime.rpc import DomainError, request
from services.expert.answering import scoring
from services.expert.reactors import SUBJECT, Scorer
from tests.support.flows import create_expert
from tests.support.scripted_llm import ScriptedLLM, serving
from tests.support.waiting import until

pytestmark = pytest.mark.integration

KEY = "sk-faults-0a1b2c"


def given(expert_id: str, answer: str = "Tides turn twice a day.") -> AnswerGiven:
    return AnswerGiven(
        answer_id=uuid.uuid4().hex[:16],
        expert_id=expert_id,
        mode="closed",
        question="How often do tides turn?",
        answer=answer,
        backend="local",
        model="tiny",
    )


async def append(nc, event: AnswerGiven) -> int:
    store = EventStore(nc.jetstream())
    return await store.append("expert", "local", "answer", event.answer_id, event, expected_seq=0)


async def scores_on_log(nc, answer_id: str) -> list[str]:
    events, _ = await EventStore(nc.jetstream()).load("expert", "local", "answer", answer_id)
    return [rec.event.scorer_version for rec in events if rec.type == "expert.AnswerScored"]


class FailsOn(Scorer):
    """The product's scorer, except that scoring `poison` always fails."""

    def __init__(self, host, poison: str) -> None:
        super().__init__(host)
        self.poison, self.scored = poison, []

    async def score(self, tenant: str, answer: AnswerGiven) -> None:
        if answer.answer_id == self.poison:
            raise RuntimeError("this trace breaks the scorer")
        await super().score(tenant, answer)
        self.scored.append(answer.answer_id)


async def test_a_trace_that_breaks_the_scorer_costs_only_itself(services, nc):
    host = services["expert"]
    expert = await create_expert(nc)
    poison, good = given(expert), given(expert, "The moon pulls the sea.")
    scorer = FailsOn(host, poison.answer_id)
    reactor = Reactor(
        nc,
        f"test.score.{uuid.uuid4().hex[:8]}",
        "EXPERT",
        scorer.on_answer,
        subject=SUBJECT,
        max_deliver=2,
    )
    await append(nc, poison)
    await append(nc, good)
    await reactor.start()
    try:
        await until(
            lambda: reactor.health()["parked"] == 1 and good.answer_id in scorer.scored, timeout=60
        )
        assert await scores_on_log(nc, good.answer_id) == [scoring.SCORER_VERSION]
    finally:
        await reactor.stop()


async def test_scoring_again_records_one_score_per_scorer_version(services, nc, monkeypatch):
    host = services["expert"]
    expert = await create_expert(nc)
    answer = given(expert)
    await append(nc, answer)
    await until(lambda: scores_on_log(nc, answer.answer_id), timeout=60)  # its own scorer

    scorer = Scorer(host)  # a redelivery after a crash, three times at once
    await asyncio.gather(*(scorer.score("local", answer) for _ in range(3)))
    assert await scores_on_log(nc, answer.answer_id) == [scoring.SCORER_VERSION]

    original = scoring.SCORER_VERSION
    monkeypatch.setattr(scoring, "SCORER_VERSION", "test-2")
    done = await request(nc, "cmd.expert.rescore", RescoreAnswers(expert_id=expert), Rescored)
    again = await request(nc, "cmd.expert.rescore", RescoreAnswers(expert_id=expert), Rescored)
    assert (done.scored, again.scored) in ((1, 0), (1, 1))  # the view may lag one beat
    assert await scores_on_log(nc, answer.answer_id) == [original, "test-2"]
    await host.caught_up("EXPERT", (await nc.jetstream().stream_info("EXPERT")).state.last_seq)
    trace = await request(nc, "qry.expert.answer", GetAnswer(answer_id=answer.answer_id), TraceView)
    assert trace.score.scorer_version == "test-2"


@pytest.fixture
async def slow_model():
    # It takes longer to begin than the question may wait (30 s): an answer that ends
    # before it does was stopped, not answered.
    llm = ScriptedLLM(KEY, lambda messages: "Slowly, " * 50, delay_s=120.0)
    async with serving(llm) as url:
        llm.url = f"{url}/v1"
        yield llm


async def test_a_reader_who_leaves_stops_the_answer_and_leaves_no_trace(services, nc, slow_model):
    expert = await create_expert(nc)
    backend = ConfigureBackend(
        expert_id=expert, kind="openai", base_url=slow_model.url, model="slow", api_key=KEY
    )
    await request(nc, "cmd.expert.configure_backend", backend, Accepted)
    stream_id = uuid.uuid4().hex
    ask = Ask(expert_id=expert, question="Take your time?", mode="closed", stream_id=stream_id)
    answer = asyncio.create_task(request(nc, "cmd.expert.ask", ask, AnswerReply, timeout=30))
    await until(lambda: slow_model.requests)  # the model is at work on it
    await nc.publish(cancel_subject("local", stream_id), b"")
    with pytest.raises(DomainError) as stopped:
        await answer
    assert "stopped" in stopped.value.detail
    assert slow_model.replied == 0  # it did not wait for the model
    page = await request(nc, "qry.expert.traces", ListTraces(expert_id=expert), TracePage)
    assert page.traces == []  # no answer was recorded
