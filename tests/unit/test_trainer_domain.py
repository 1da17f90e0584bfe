"""The trainer's pure parts: the config's ranges, the budget, a run's life, the estimate and
the schedule's next tick."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from contracts.base import DomainError
from contracts.trainer import (
    RANGES,
    AdapterTrained,
    Estimate,
    RunMetrics,
    RunProgressed,
    RunQueued,
    RunSettled,
    RunStarted,
    StartFinetune,
    TrainConfig,
    plain,
)
from services.trainer import domain
from services.trainer.data import Data, estimate, steps_of
from services.trainer.reactors.schedule import next_tick


def test_the_defaults_are_the_prds():
    c = TrainConfig()
    assert (c.lora_rank, c.lora_alpha, c.learning_rate, c.batch_size) == (16, 32, 2e-4, 4)
    assert (c.gradient_accumulation_steps, c.epochs, c.max_seq_length) == (4, 3, 4096)
    assert (c.warmup_ratio, c.weight_decay, c.min_quality_score) == (0.03, 0.01, 8.0)
    assert c.early_stopping_patience == 3 and c.backend == "auto"


@pytest.mark.parametrize("key", sorted(RANGES))
def test_a_value_out_of_range_is_refused_naming_the_key_and_the_range(key):
    low, high = RANGES[key]
    too_big = high * 2 if isinstance(high, float) and high < 1 else high + 1
    body = msgspec.json.encode({"expert_id": "e1", "config": {key: too_big}})
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.json.decode(body, type=StartFinetune)
    assert f"{key} must be between {plain(low)} and {plain(high)}" in str(refused.value)
    msgspec.convert({key: high}, TrainConfig)  # the edges themselves are fine
    msgspec.convert({key: low}, TrainConfig)


def test_every_wrong_key_is_named_at_once_in_plain_numbers():
    with pytest.raises(ValueError) as refused:
        TrainConfig(lora_rank=2, learning_rate=0.5, seed=-1)
    words = str(refused.value)
    assert "lora_rank must be between 4 and 128 (got 2)" in words
    assert "learning_rate must be between 0.00001 and 0.001 (got 0.5)" in words
    assert "seed must be between 0 and 2147483647 (got -1)" in words


def test_an_unknown_key_is_refused():
    with pytest.raises(msgspec.ValidationError, match="lora_rnak"):
        msgspec.convert({"lora_rnak": 8}, TrainConfig)


def queued(cost: float | None, number: int = 1) -> RunQueued:
    est = Estimate(backend="openai", train_examples=9, val_examples=1, tokens_per_epoch=100,
                   training_tokens=300, total_steps=3, cost_usd=cost)  # fmt: skip
    ref = {"bucket": "datasets", "name": "t/e/x.jsonl", "sha256": "0" * 64, "size": 1}
    return msgspec.convert(
        {"run_id": f"r{number}", "expert_id": "e", "number": number, "dataset_id": "d",
         "dataset": ref, "config": {}, "backend": "openai", "base_model": "m",
         "trigger": "api", "estimate": msgspec.to_builtins(est)},
        RunQueued,
    )  # fmt: skip


def test_the_budget_counts_every_hosted_run_queued_and_refuses_with_the_figures():
    line = domain.evolve_line(domain.LINE, queued(4.0))
    line = domain.evolve_line(line, queued(3.5, 2))
    assert line.runs == 2 and line.committed_usd == 7.5
    domain.check_budget(line, queued(2.5).estimate, 10.0)  # exactly at the budget is fine
    with pytest.raises(DomainError) as refused:
        domain.check_budget(line, queued(2.6).estimate, 10.0)
    assert refused.value.code == "over_budget"
    assert "$2.60" in refused.value.detail and "$7.50" in refused.value.detail
    assert "$10.00" in refused.value.detail
    domain.check_budget(line, queued(1e6).estimate, None)  # no budget set


def test_an_ended_run_counts_what_it_cost_instead_of_its_estimate_once():
    line = domain.evolve_line(domain.LINE, queued(4.0))
    line = domain.evolve_line(line, queued(3.5, 2))
    settled = RunSettled(run_id="r1", cost_usd=9.0, billed=True)  # billed past its estimate
    assert domain.decide_settle(line, settled) is settled
    line = domain.evolve_line(line, settled)
    assert line.committed_usd == 12.5 and set(line.unsettled) == {"r2"}
    assert domain.decide_settle(line, settled) is None  # a redelivery settles nothing again
    assert domain.evolve_line(line, settled) == line
    with pytest.raises(DomainError):  # the estimates alone (7.5 + 2.5) would fit 10.0
        domain.check_budget(line, queued(2.5).estimate, 10.0)
    released = domain.evolve_line(line, RunSettled(run_id="r2", cost_usd=0.0))
    assert released.committed_usd == 9.0 and released.unsettled == {}


def test_a_run_ends_once_and_nothing_counts_after_its_end():
    started = domain.evolve_run(domain.RUN, RunStarted(run_id="r", attempt=1, worker="w"))
    assert domain.going(started) and started.attempts == 1
    step = RunProgressed(run_id="r", step=1, total_steps=3)
    assert domain.decide_going(started, step) is step
    cancelled = domain.evolve_run(started, domain.decide_cancel(started, "r"))
    assert cancelled.status == "cancelled"
    assert domain.decide_cancel(cancelled, "r") is None  # twice is fine
    assert domain.decide_going(cancelled, step) is None  # a late step is dropped
    trained = AdapterTrained(run_id="r", adapter_id="a", expert_id="e", dataset_id="d",
                             base_model="m", backend="peft", metrics=RunMetrics())  # fmt: skip
    done = domain.evolve_run(started, trained)
    with pytest.raises(DomainError) as conflict:
        domain.decide_cancel(done, "r")
    assert conflict.value.code == "conflict"


def test_steps_and_the_estimate():
    config = TrainConfig(batch_size=2, gradient_accumulation_steps=2, epochs=3)
    assert steps_of(config, 9) == 9  # ceil(9 / 4) a epoch
    assert steps_of(msgspec.structs.replace(config, max_steps=5), 9) == 5
    assert steps_of(msgspec.structs.replace(config, max_steps=50), 9) == 50  # as the loop does
    data = Data(train=b"", val=b"", train_examples=9, val_examples=1, cautious_tokens=1000)
    hosted = estimate(config, "openai", data, 1000, price_per_million=8.0,
                      local_tokens_per_s=None, budget_usd=5.0, spent_usd=1.0)  # fmt: skip
    assert hosted.training_tokens == 3000 and hosted.cost_usd == 0.024
    assert hosted.expected_seconds is None and hosted.spent_usd == 1.0
    local = estimate(config, "peft", data, 1000, price_per_million=None,
                     local_tokens_per_s=100.0, budget_usd=None, spent_usd=0.0)  # fmt: skip
    assert local.cost_usd is None and local.expected_seconds == 30


def test_the_default_schedule_ticks_on_sunday_at_two():
    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert next_tick("0 2 * * 0", thursday) == "2026-11-29T02:00:00+00:00"
    assert next_tick("off", thursday) is None


@pytest.mark.parametrize(
    ("text", "at_least"),
    [
        ("Harbour fees are paid in April. " * 20, 640 / 4),  # English: above the 4-a-token rule
        ("Портовые сборы платят в апреле. " * 20, 620 / 2),  # Cyrillic: 2 bytes a letter
        ("港口费用在四月支付。" * 20, 200),  # CJK: a token for every character at least
    ],
    ids=["english", "cyrillic", "cjk"],
)
def test_a_hosted_estimate_counts_tokens_cautiously(text, at_least):
    from services.trainer.data import cautious_tokens

    assert at_least <= cautious_tokens(text) <= len(text.encode("utf-8"))


def test_a_budget_without_a_price_refuses_a_hosted_run_but_not_a_local_one():
    free = Estimate(backend="openai", train_examples=9, val_examples=1,
                    tokens_per_epoch=100, training_tokens=300, total_steps=3,
                    cost_usd=0.0)  # fmt: skip
    with pytest.raises(DomainError) as refused:
        domain.check_budget(domain.LINE, free, budget_usd=20.0)
    assert refused.value.code == "over_budget" and "price per million" in refused.value.detail
    domain.check_budget(domain.LINE, free, budget_usd=None)  # no budget: nothing to keep to
    local = msgspec.structs.replace(free, backend="peft", cost_usd=None)
    domain.check_budget(domain.LINE, local, budget_usd=20.0)  # a local run costs no money
