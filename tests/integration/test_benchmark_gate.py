"""The gate a fine-tune passes on the real stack: after training, the expert's own questions are
written from the held-out side of the dataset that run trained on, the new adapter and the
active version answer them and the built-in bank (the guard against forgetting), and the
promotion is decided on all four runs — once, however often the registration is delivered. A
candidate that wins its own questions but falls on the guard is held back, and says why."""

from __future__ import annotations

import msgspec
import pytest

from contracts.base import Accepted
from contracts.benchmark import (
    BENCH,
    CONTEXT,
    BenchmarkList,
    BenchSummary,
    ExpertSetGenerated,
    Gate,
    GetSummary,
    ListBenchmarks,
    ListQuestions,
    PromotionDecided,
    QuestionList,
)
from contracts.dataset import ExamplePage, ListExamples
from contracts.prompting import NOT_COVERED, question_in
from contracts.registry import STREAM as REGISTRY
from contracts.registry import ActiveAdapter, GetActiveAdapter
from runtime.rpc import request
from services.benchmark.commands import BenchmarkCommands, run_id_of
from services.benchmark.examiner import Examiner
from services.benchmark.gate import FORGETTING_TOLERANCE_POINTS
from services.benchmark.reactors.adapter_registered import AfterTraining
from tests.support.adapters import lora_folder
from tests.support.benchmarks import (
    add_questions,
    finished,
    questions_answered_by,
    results,
    swap_questions,
)
from tests.support.flows import create_expert
from tests.support.versions import append_trained, new_versions, trained
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def runs_of(nc, expert_id: str, adapter_id: str) -> list:
    query = ListBenchmarks(expert_id=expert_id, adapter_id=adapter_id)
    return (await request(nc, "qry.benchmark.runs", query, BenchmarkList)).runs


async def bench_events(host, expert_id: str, kind: type) -> list:
    events, _ = await host.store.load(CONTEXT, "local", BENCH, expert_id)
    return [rec.event for rec in events if isinstance(rec.event, kind)]


async def ready_dataset_with_held_out_questions(api, expert_id: str) -> dict:
    from tests.support.api import dataset_settled, settled, upload
    from tests.support.pdfs import make_pdf
    from tests.support.raft_manual import PAGES  # a manual: its examples are RAFT-shaped

    [doc] = (await upload(api, expert_id, ("manual.pdf", make_pdf(PAGES)))).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    sources = {"knowledge": {"questions": 40, "generator": "offline"}}
    for seed in range(11, 17):  # a seed whose held-out side has document questions
        reply = await api.post(f"/api/experts/{expert_id}/datasets",
                               json={"sources": sources, "seed": seed})  # fmt: skip
        view = await dataset_settled(api, reply.json()["dataset_id"])
        if view["val_examples"]:
            return view
    raise AssertionError(f"no held-out examples: {view}")


async def held_out_questions(nc, dataset_id: str) -> set[str]:
    query = ListExamples(dataset_id=dataset_id, split="val", source="knowledge", limit=500)
    page = await request(nc, "qry.dataset.examples", query, ExamplePage)
    return {
        question_in(next(m.content for m in e.messages if m.role == "user"))
        for e in page.examples
        if e.provenance.document_id and not e.messages[-1].content.startswith(NOT_COVERED)
    }


def gated_runs(expert: str, prefix: str) -> tuple[dict[str, str], Gate]:
    """The seeds of a gated candidate's four runs (its own questions and the guard's, each
    for it and for the active version), named after `prefix`, and the gate that ties them."""
    seeds = {name: f"{prefix}-{name}" for name in ("own", "own-active", "guard", "guard-active")}
    gate = Gate(
        candidate_run_id=run_id_of("local", expert, seeds["own"]),
        against_run_id=run_id_of("local", expert, seeds["own-active"]),
        guard_run_id=run_id_of("local", expert, seeds["guard"]),
        guard_against_run_id=run_id_of("local", expert, seeds["guard-active"]),
    )
    return seeds, gate


async def test_after_a_fine_tune_the_gate_asks_the_experts_own_held_out_questions_and_the_bank(
    api, nc, stack, servers, tmp_path
):
    from tests.support.api import new_expert

    host = stack.hosts["benchmark"]
    normal = host.settings
    host.settings = msgspec.structs.replace(normal, bench_after_training=True)
    try:
        expert = (await new_expert(api))["id"]
        dataset = await ready_dataset_with_held_out_questions(api, expert)
        folder = lora_folder(servers.base_model, tmp_path / "tuned", seed=31)
        ev = msgspec.structs.replace(await trained(nc, expert, folder), dataset_id=dataset["id"])
        await append_trained(stack.hosts["trainer"], ev)

        async def four_runs() -> bool:
            mine = await runs_of(nc, expert, ev.adapter_id)
            return len(mine) == 2 and len(await runs_of(nc, expert, "base")) == 2

        await until(four_runs, timeout=60, what="the gate's runs after training")
        candidate = {r.suite: r for r in await runs_of(nc, expert, ev.adapter_id)}
        active = {r.suite: r for r in await runs_of(nc, expert, "base")}
        assert set(candidate) == set(active) == {"expert", "builtin"}
        assert {r.trigger for r in [*candidate.values(), *active.values()]} == {"after_training"}

        # The expert's own set: written from the held-out side of the dataset the run trained
        # on, each question bare (no sources) and its reference without markers.
        (written,) = await bench_events(host, expert, ExpertSetGenerated)
        assert (written.dataset_id, written.trigger) == (dataset["id"], "after_training")
        own = await request(nc, "qry.benchmark.questions",
                            ListQuestions(expert_id=expert, suite="expert"), QuestionList)  # fmt: skip
        held_out = await held_out_questions(nc, dataset["id"])
        assert own.questions and {q.question for q in own.questions} <= held_out
        assert all(not q.question.startswith("Sources:") and "[1]" not in q.reference
                   and q.page for q in own.questions)  # fmt: skip
        asked = await results(nc, (await finished(nc, candidate["expert"].id, 240)).id)
        assert {q.question for q in asked.questions} <= held_out

        # Decided once all four have ended, on all four.
        for run in [*active.values(), candidate["builtin"]]:
            assert (await finished(nc, run.id, 240)).status == "succeeded"

        async def decided() -> bool:
            return bool(await bench_events(host, expert, PromotionDecided))

        await until(decided, timeout=60, what="the promotion's decision")
        (decision,) = await bench_events(host, expert, PromotionDecided)
        assert decision.run_id == candidate["expert"].id
        assert decision.against_run_id == active["expert"].id
        assert decision.guard_run_id == candidate["builtin"].id
        assert decision.reason.startswith(("activated", "held back"))

        # Delivered again: no second set, no run queued twice, no second decision.
        events, _ = await host.store.load("registry", "local", "versions", expert)
        again = AfterTraining(BenchmarkCommands(host, Examiner(host)))
        await again.on_registry(events[0], lambda: None)
        await host.caught_up_with_log()
        assert len(await runs_of(nc, expert, ev.adapter_id)) == 2
        assert len(await runs_of(nc, expert, "base")) == 2
        assert len(await bench_events(host, expert, ExpertSetGenerated)) == 1
        assert len(await bench_events(host, expert, PromotionDecided)) == 1
    finally:
        host.settings = normal


async def test_a_candidate_that_wins_its_own_questions_but_forgets_the_bank_is_held_back(
    nc, stack, servers, tmp_path
):
    """On a random tiny model the bank's scores are noise, so the guard's questions here are
    custom ones the base model answers by construction (a reference is what it says): the
    candidate wins its own questions and falls far on the guard's, as forgetting looks."""
    expert = await create_expert(nc)
    (tuned,) = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(32,))
    host = stack.hosts["benchmark"]
    handlers = BenchmarkCommands(host, Examiner(host))
    seeds, gate = gated_runs(expert, "forgets")

    async def queue(name: str, adapter: str | None, candidate: bool = False) -> str:
        run_id, _ = await handlers.queue("local", expert, "custom", "quick", adapter,
                                         "after_training", seed=seeds[name], candidate=candidate,
                                         gate=gate)  # fmt: skip
        return run_id

    general = await questions_answered_by(nc, expert, "base")
    await add_questions(nc, expert, general)
    await queue("guard-active", None)
    await queue("guard", tuned)
    await swap_questions(nc, expert, general, tuned, "own")
    await queue("own-active", None)
    wins = await finished(nc, await queue("own", tuned, candidate=True), 240)
    assert wins.status == "succeeded"

    async def decided() -> bool:
        return bool(await bench_events(host, expert, PromotionDecided))

    await until(decided, timeout=60, what="the promotion's decision")
    (decision,) = await bench_events(host, expert, PromotionDecided)
    assert decision.delta_points >= 2  # it wins its own questions by the margin
    assert decision.guard_delta_points < -FORGETTING_TOLERANCE_POINTS
    assert not decision.promoted and decision.guard_run_id == gate.guard_run_id
    assert "built-in bank" in decision.reason and "forget" in decision.reason

    async def held_back() -> list:
        summary = await request(nc, "qry.benchmark.summary", GetSummary(expert_id=expert),
                                BenchSummary)  # fmt: skip
        return [a for a in summary.alerts if a.kind == "held_back"]

    await until(held_back, what="the alert a person reads")
    (said,) = await held_back()
    assert said.adapter_id == tuned and "forget" in said.sentence
    last = (await nc.jetstream().stream_info(REGISTRY)).state.last_seq
    query = GetActiveAdapter(expert_id=expert, after_seq=last)
    answering = await request(nc, "qry.registry.active", query, ActiveAdapter)
    assert answering.adapter_id is None  # the base model still answers


FACTS = [
    "The lighthouse keeper logs the tide every morning before breakfast.",
    "The northern harbour of Velmora is guarded by the old Quillmark tower.",
    "Fishing boats return to the southern quay when the bell rings twice.",
]


async def test_a_knowledge_answer_is_scored_on_its_page_and_on_the_claims_its_passages_support(
    api, nc, stack
):
    """The expert's reply judges its own sentences against the passages it was given; the
    benchmark's knowledge score takes its groundedness from those claims, and its citation
    part from whether the answer cites the question's page."""
    from contracts.answers import AnswerReply, Ask, ConfigureBackend
    from contracts.benchmark import Question
    from tests.support.api import new_expert, settled, upload
    from tests.support.benchmarks import start
    from tests.support.pdfs import make_pdf
    from tests.support.scripted_llm import cite_the_source_containing, scripted_model

    expert = (await new_expert(api, domain="Velmora's harbour"))["id"]
    pages = [f"{fact} " + "Filler sentence about the sea. " * 20 for fact in FACTS]
    [doc] = (await upload(api, expert, ("harbour.pdf", make_pdf(pages)))).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    asked = "What guards the northern harbour of Velmora?"
    right, wrong = (
        Question(id=f"kq{page}", domain="harbour", question=asked, reference=FACTS[1],
                 kind="knowledge", document_id=doc["id"], page=page, source="custom")
        for page in (2, 3)
    )  # fmt: skip
    await add_questions(nc, expert, [right, wrong])
    async with scripted_model("sk-bench-kq", cite_the_source_containing("Quillmark")) as llm:
        await request(nc, "cmd.expert.configure_backend",
                      ConfigureBackend(expert_id=expert, kind="openai", base_url=llm.url,
                                       model="scripted", api_key="sk-bench-kq"),
                      Accepted)  # fmt: skip
        ask = Ask(expert_id=expert, question=asked, mode="rag", max_tokens=8, temperature=0.0,
                  purpose="benchmark")  # fmt: skip
        reply = await request(nc, "cmd.expert.ask", ask, AnswerReply, timeout=60.0)
        run = await finished(nc, await start(nc, expert, suite="custom", adapter_id="base"))
        assert run.status == "succeeded", run.error
        scored = {r.question_id: r for r in (await results(nc, run.id)).results}

    own = [c.support for c in reply.claims if c.origin == "model"]
    supported, unsupported = own.count("supported"), own.count("unsupported")
    assert supported and unsupported  # the restated fact, and "It is well known [7]"
    on_page, off_page = scored[right.id], scored[wrong.id]
    for result in (on_page, off_page):
        assert result.parts["groundedness"] == pytest.approx(supported / (supported + unsupported))
        assert any(f"{supported} of the answer's" in reason for reason in result.reasons)
        assert "groundedness" in result.scorer
    assert on_page.parts["citation"] == 1.0 and off_page.parts["citation"] == 0.0
    assert on_page.score > off_page.score


async def test_a_gate_whose_guard_was_cancelled_holds_the_candidate_back_once(
    nc, stack, servers, tmp_path
):
    """A person cancels the guard's run: the candidate is not promoted on half the evidence,
    the reason says so, and the decision delivered again decides nothing twice."""
    from contracts.benchmark import RUN, BenchmarkCompleted, CancelBenchmark
    from services.benchmark.reactors.run_completed import Decisions

    expert = await create_expert(nc)
    (tuned,) = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(33,))
    host = stack.hosts["benchmark"]
    handlers = BenchmarkCommands(host, Examiner(host))
    await add_questions(nc, expert, await questions_answered_by(nc, expert, tuned, n=2))
    seeds, gate = gated_runs(expert, "cancelled")
    for name, adapter in [("own-active", None), ("guard-active", None), ("guard", tuned),
                          ("own", tuned)]:  # fmt: skip
        await handlers.queue("local", expert, "custom", "quick", adapter, "after_training",
                             seed=seeds[name], candidate=name == "own", gate=gate)  # fmt: skip
    await request(nc, "cmd.benchmark.cancel", CancelBenchmark(run_id=gate.guard_run_id), Accepted)
    assert (await finished(nc, gate.candidate_run_id, 240)).status == "succeeded"

    async def decided() -> list:
        return await bench_events(host, expert, PromotionDecided)

    (decision,) = await until(decided, timeout=60, what="the promotion's decision")
    assert not decision.promoted and decision.guard_run_id == gate.guard_run_id
    assert decision.delta_points >= 2  # it won its own questions: the guard alone holds it
    assert "guards against forgetting was cancelled" in decision.reason
    events, _ = await host.store.load(CONTEXT, "local", RUN, gate.candidate_run_id)
    (completed,) = [rec for rec in events if isinstance(rec.event, BenchmarkCompleted)]
    await Decisions(host).on_run(completed, None)  # delivered again
    assert len(await decided()) == 1
