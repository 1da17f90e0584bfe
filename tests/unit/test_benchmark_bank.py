import re
from collections import Counter

import msgspec
import pytest

from contracts.benchmark import SIZES, Question
from services.benchmark.bank import builtin, pick
from services.benchmark.scoring.match import as_number, score_value
from services.benchmark.scoring.text import normalize

DOMAINS = {"mathematics", "coding", "science", "reasoning", "creative"}


def test_the_bank_has_fifty_valid_questions_ten_per_domain_with_unique_ids():
    bank = builtin()
    assert len(bank) == 50
    assert Counter(q.domain for q in bank) == dict.fromkeys(DOMAINS, 10)
    assert len({q.id for q in bank}) == 50
    for q in bank:
        assert re.fullmatch(r"bi-[a-z]+-\d\d", q.id)
        assert msgspec.json.decode(msgspec.json.encode(q), type=Question) == q  # contract rules
        assert q.source == "builtin" and q.kind in {"value", "text"}
        assert q.question.strip() and q.reference.strip() and q.rubric.strip()


def test_every_domain_mixes_difficulties():
    for domain in DOMAINS:
        assert {q.difficulty for q in builtin() if q.domain == domain} == {"easy", "medium", "hard"}


@pytest.mark.parametrize(
    "question", [q for q in builtin() if q.kind == "value"], ids=lambda q: q.id
)
def test_value_references_are_a_number_or_a_short_exact_value_that_matches_itself(question):
    reference = question.reference
    assert as_number(reference) is not None or 1 <= len(normalize(reference).split()) <= 3
    assert score_value(reference, reference)[0] == 1.0
    assert score_value(f"So the answer is {reference}.", reference)[0] == 1.0


def test_builtin_returns_a_copy_of_the_cached_bank():
    first = builtin()
    first.clear()
    assert len(builtin()) == 50


def test_a_quick_run_asks_two_per_domain_and_a_full_run_everything_in_bank_order():
    bank = builtin()
    quick = pick(bank, SIZES["quick"], seed=1)
    assert Counter(q.domain for q in quick) == dict.fromkeys(DOMAINS, 2)
    assert pick(bank, SIZES["full"], seed=1) == bank
    assert pick(bank, 500, seed=1) == bank


def test_pick_is_stable_for_a_seed_and_varies_with_it():
    bank = builtin()
    assert pick(bank, 10, seed=7) == pick(list(bank), 10, seed=7)
    assert len({tuple(q.id for q in pick(bank, 10, seed=s)) for s in range(5)}) > 1


def test_pick_keeps_the_questions_order_and_spreads_a_remainder_by_one_at_most():
    bank = builtin()
    chosen = pick(bank, 7, seed="x")
    assert [bank.index(q) for q in chosen] == sorted(bank.index(q) for q in chosen)
    counts = Counter(q.domain for q in chosen)
    assert len(chosen) == 7 and max(counts.values()) - min(counts.values()) <= 1
    assert set(counts) == DOMAINS


def test_a_small_domain_leaves_its_turns_to_the_others():
    one = Question(id="only", domain="tiny", question="q", reference="r")
    others = [Question(id=f"m{i}", domain="many", question="q", reference="r") for i in range(6)]
    chosen = pick([one, *others], 4, seed=0)
    assert len(chosen) == 4 and one in chosen
