import pytest

from contracts.dataset import Provenance
from services.dataset.candidates import Candidate, example_id
from services.dataset.rules import MESSAGE_OVERHEAD, prompt_key, screen


def words(text: str) -> int:
    return len(text.split())


def candidate(question="What is VAT?", answer="A tax on spending.", source="manual", **kw):
    kw.setdefault("system", "")
    kw.setdefault("group", f"g-{question}-{answer}")
    return Candidate(source=source, question=question, answer=answer, provenance=Provenance(), **kw)


def run(candidates, **kw):
    options = dict(count=words, max_seq_tokens=2048, banned_topics=[], max_examples=500, seed=0)
    return screen(candidates, **{**options, **kw})


def codes(rejections):
    return [r.code for r in rejections]


@pytest.mark.parametrize(("question", "answer"), [("", "An answer."), ("A question?", " \n\t")])
def test_a_blank_question_or_answer_is_rejected_as_empty(question, answer):
    kept, rejected = run([candidate(question, answer)])
    assert kept == [] and codes(rejected) == ["empty"]
    assert "empty" in rejected[0].detail


def test_too_long_counts_every_message_with_its_template_allowance_and_says_both_numbers():
    system, question, answer = "Be brief.", "What is VAT?", "word " * 100
    exact = 2 + 3 + 100 + 3 * MESSAGE_OVERHEAD
    fits = candidate(question, answer, system=system)
    assert run([fits], max_seq_tokens=exact)[0] == [fits]
    kept, rejected = run([fits], max_seq_tokens=exact - 1)
    assert kept == [] and codes(rejected) == ["too_long"]
    assert rejected[0].detail == f"The example is {exact:,} tokens; the model takes {exact - 1:,}."


def test_thousands_are_separated_in_the_too_long_sentence():
    long = candidate(answer="word " * 2300)
    _, rejected = run([long], max_seq_tokens=2048)
    assert "2,048" in rejected[0].detail and "2,3" in rejected[0].detail


def test_an_empty_system_prompt_costs_nothing():
    bare = candidate("one two", "three four")
    assert run([bare], max_seq_tokens=4 + 2 * MESSAGE_OVERHEAD)[0] == [bare]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Which STOCKS should I buy?", "stock"),
        ("Tell me about insurance policies.", "insurance policy"),
        ("What about crypto\ncurrency?", "Crypto Currency"),
    ],
)
def test_a_banned_topic_in_the_question_or_answer_is_rejected(text, topic):
    for c in (candidate(question=text), candidate(answer=text)):
        kept, rejected = run([c], banned_topics=["politics", topic])
        assert kept == [] and codes(rejected) == ["banned_topic"]
        assert " ".join(topic.split()) in rejected[0].detail


@pytest.mark.parametrize("text", ["I need a taxi.", "Where is the stockroom?", "Taxonomy."])
def test_a_banned_topic_matches_whole_words_only(text):
    c = candidate(question=text, answer="Nothing to see here.")
    assert run([c], banned_topics=["tax", "stock", "  "])[0] == [c]


def test_duplicates_are_compared_normalized_and_the_first_in_input_order_wins():
    first = candidate("What is VAT?", "From the manual.", source="manual")
    again = candidate("  what IS  vat ", "From a trace.", source="traces")
    wide = candidate("Ｗｈａｔ ｉｓ ＶＡＴ？", "Full-width letters.", source="knowledge")
    kept, rejected = run([first, again, wide])
    assert kept == [first]
    assert codes(rejected) == ["duplicate", "duplicate"]
    assert [r.source for r in rejected] == ["traces", "knowledge"]


def test_a_duplicate_of_a_rejected_candidate_is_kept():
    empty_answer = candidate("What is VAT?", "")
    good = candidate("What is VAT?", "A tax.")
    kept, rejected = run([empty_answer, good])
    assert kept == [good] and codes(rejected) == ["empty"]


def test_normalization_keeps_different_questions_apart():
    assert prompt_key("What is VAT?") == prompt_key("what-is vat")
    assert prompt_key("What is VAT?") != prompt_key("What is UK VAT?")


def many(source, n):
    return [candidate(f"{source} question {i}?", f"Answer {i}.", source=source) for i in range(n)]


def test_over_the_cap_every_source_keeps_a_fair_share():
    pool = many("manual", 3) + many("traces", 40) + many("knowledge", 100)
    kept, rejected = run(pool, max_examples=23)
    by_source = {s: sum(c.source == s for c in kept) for s in ("manual", "traces", "knowledge")}
    assert by_source == {"manual": 3, "traces": 10, "knowledge": 10}
    assert codes(rejected) == ["over_cap"] * (len(pool) - 23)
    assert "23" in rejected[0].detail


def test_the_cap_is_deterministic_for_a_seed_and_varies_with_it():
    pool = many("knowledge", 200)
    ids = lambda kept: {example_id(c) for c in kept}  # noqa: E731
    once, again = run(pool, max_examples=20, seed=7)[0], run(pool, max_examples=20, seed=7)[0]
    assert ids(once) == ids(again)
    assert ids(once) != ids(run(pool, max_examples=20, seed=8)[0])


def test_kept_examples_stay_in_input_order():
    pool = many("traces", 50) + many("knowledge", 50)
    kept, _ = run(pool, max_examples=30, seed=3)
    positions = [pool.index(c) for c in kept]
    assert positions == sorted(positions)


def test_adding_a_candidate_changes_at_most_one_kept_example():
    pool = many("knowledge", 100)
    before = {example_id(c) for c in run(pool, max_examples=20, seed=1)[0]}
    extra = candidate("knowledge question extra?", "Answer.", source="knowledge")
    after = {example_id(c) for c in run(pool + [extra], max_examples=20, seed=1)[0]}
    assert len(before - after) <= 1


def test_the_rejection_names_the_question_on_one_line_cut_to_300_characters():
    question = "Why\n" + "x" * 400
    _, rejected = run([candidate(question, "")])
    assert len(rejected[0].question) == 300
    assert rejected[0].question.startswith("Why x") and "\n" not in rejected[0].question


def test_a_text_longer_than_the_schema_holds_is_too_long():
    huge = candidate(answer="x" * 20_001)
    _, rejected = run([huge], max_seq_tokens=10**6)
    assert codes(rejected) == ["too_long"] and "20,000" in rejected[0].detail
