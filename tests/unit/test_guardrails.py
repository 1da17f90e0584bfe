import pytest

from services.expert.answering.guardrails import (
    clamp_max_tokens,
    output_violations,
    refusal_for,
)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Which STOCKS should I buy?", "stock"),
        ("Is this stock a good buy?", "stocks"),
        ("Tell me about insurance policies.", "insurance policy"),
        ("What about Crypto\ncurrency?", "crypto currency"),
        ("What tax do I pay?", "tax"),
        ("Should I buy gold?", "Gold"),
    ],
)
def test_a_question_touching_a_banned_topic_is_refused_with_the_reason(question, topic):
    refusal = refusal_for(question, ["politics", topic])
    assert refusal is not None
    assert " ".join(topic.split()) in refusal and "won't answer" in refusal


@pytest.mark.parametrize(
    "question",
    ["I need a taxi to the airport.", "Where is the stockroom?", "Is goldfish food taxable?"],
)
def test_words_that_merely_contain_a_topic_are_not_refused(question):
    assert refusal_for(question, ["tax", "stock", "gold"]) is None


def test_no_banned_topics_or_blank_ones_refuse_nothing():
    assert refusal_for("Anything at all?", []) is None
    assert refusal_for("Anything at all?", ["", "   "]) is None


def test_the_first_matching_topic_in_the_owners_order_is_named():
    assert "politics" in refusal_for("Do politics and tax mix?", ["politics", "tax"])


def test_quoted_phrases_from_the_dont_list_are_reported_when_used():
    dont = [
        'Don\'t say "basically"',
        "avoid 'in conclusion'",
        "Never write “as an AI”",
        "Don’t say ‘to be honest’",
        "Don't use jargon",
        "don't write 'synergy'",
    ]
    answer = "Basically, the rate is 20%. In  conclusion, pay on time. To be honest, it’s easy."
    assert output_violations(answer, dont) == ["basically", "in conclusion", "to be honest"]


def test_a_quoted_phrase_inside_another_word_is_not_a_violation():
    assert output_violations("Basic rules apply.", ['Don\'t say "basic rule"']) == []
    assert output_violations("It was basically fine.", ["Don't explain"]) == []


@pytest.mark.parametrize(
    ("requested", "expected"),
    [(None, 256), (100, 100), (5000, 1024), (0, 1), (-3, 1)],
)
def test_clamp_max_tokens(requested, expected):
    assert clamp_max_tokens(requested, limit=1024, default=256) == expected


def test_the_default_is_clamped_too_and_a_limit_below_one_is_a_configuration_error():
    assert clamp_max_tokens(None, limit=64, default=256) == 64
    with pytest.raises(ValueError, match="at least 1"):
        clamp_max_tokens(10, limit=0, default=256)
