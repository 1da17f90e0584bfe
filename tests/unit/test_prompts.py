import pytest

from contracts.expert import Profile, StyleGuide
from services.expert.answering.prompts import (
    PromptTooLong,
    closed_messages,
    draft_messages,
    draft_prompt,
    few_shot_messages,
    persona,
    prompt_tokens,
    rag_messages,
)
from services.expert.answering.sources import Source


def words(text: str) -> int:
    return len(text.split())


def chars(text: str) -> int:
    return (len(text) + 3) // 4


COUNTERS = [pytest.param(words, id="words"), pytest.param(chars, id="chars")]

PROFILE = Profile(
    name="Ada Lovelace",
    domain="UK small-business tax",
    description="Ada has advised sole traders for twenty years. " * 12,
    goals=["Explain each rule with a worked example", "Point out the deadline"],
    influences=["HMRC manuals", "The Economist style guide"],
    style_guide=StyleGuide(
        tone="warm and direct",
        vocabulary="plain words, no legalese",
        sentence_length="short, under twenty words",
        do=["Give the figure first", "Name the form to file"],
        dont=['Don\'t say "basically"', "Never promise a refund"],
    ),
)


def source(rank: int, length: int = 60) -> Source:
    text = " ".join(f"fact{rank}-{i}" for i in range(length))
    return Source(
        n=100 + rank,
        document_id=f"doc{rank}",
        filename=f"guide{rank}.pdf",
        page=rank,
        chunk_id=f"chunk{rank}",
        text=text,
    )


@pytest.mark.parametrize("count", COUNTERS)
def test_persona_never_exceeds_its_budget(count):
    full = count(persona(PROFILE, 10_000, count))
    for budget in range(0, full + 5):
        assert count(persona(PROFILE, budget, count)) <= budget


def test_a_persona_that_fits_is_whole():
    text = persona(PROFILE, 10_000, words)
    for part in ("Ada Lovelace", "UK small-business tax", "warm and direct", "HMRC manuals"):
        assert part in text
    assert "Never promise a refund" in text and "Name the form to file" in text


def test_a_tight_persona_keeps_identity_tone_donts_and_dos_before_the_rest():
    essentials = persona(
        Profile(name=PROFILE.name, domain=PROFILE.domain, style_guide=PROFILE.style_guide),
        10_000,
        words,
    )
    text = persona(PROFILE, words(essentials), words)
    assert "You are Ada Lovelace, an expert in UK small-business tax." in text
    assert "warm and direct" in text
    assert 'Don\'t say "basically"' in text and "Never promise a refund" in text
    assert "Give the figure first" in text
    assert "twenty years" not in text
    assert "HMRC manuals" not in text


def test_donts_outrank_dos_and_the_description_is_cut_not_dropped_when_it_partly_fits():
    tiny = persona(PROFILE, 24, words)
    assert "Never promise a refund" in tiny
    assert "Give the figure first" not in tiny
    roomy = persona(PROFILE, words(persona(PROFILE, 10_000, words)) - 20, words)
    assert "Ada has advised" in roomy and roomy.count("twenty years") < 12
    assert "…" in roomy


@pytest.mark.parametrize("count", COUNTERS)
@pytest.mark.parametrize("context", [160, 250, 400, 800, 4000])
def test_every_prompt_fits_the_context_with_the_answer_reserved(count, context):
    answer = 64
    sizes = dict(context_tokens=context, answer_tokens=answer, count=count)
    sources = [source(rank) for rank in range(1, 8)]
    examples = [(f"Question {i}?", "An answer. " * (5 * i)) for i in range(1, 6)]
    built = [
        rag_messages(PROFILE, "When is VAT due?", sources, **sizes)[0],
        closed_messages(PROFILE, "When is VAT due?", **sizes),
        few_shot_messages(PROFILE, "When is VAT due?", examples, **sizes),
        draft_messages(PROFILE, "A note on VAT deadlines", **sizes),
        draft_messages(PROFILE, "A note on VAT deadlines", sources=sources, **sizes),
    ]
    for messages in built:
        assert prompt_tokens(messages, count) + answer <= context


def test_sources_are_numbered_from_one_and_the_lowest_ranked_are_dropped_first():
    sources = [source(rank) for rank in range(1, 6)]
    messages, given = rag_messages(
        PROFILE, "When is VAT due?", sources, context_tokens=500, answer_tokens=100, count=words
    )
    assert 0 < len(given) < len(sources)
    assert [s.n for s in given] == list(range(1, len(given) + 1))
    assert [s.chunk_id for s in given] == [s.chunk_id for s in sources[: len(given)]]
    user = messages[-1]["content"]
    for s in given:
        assert f"[{s.n}] ({s.filename}, page {s.page})" in user
    assert sources[-1].text.split()[0] not in user
    assert user.rstrip().endswith("When is VAT due?")


def test_a_passage_that_does_not_fit_whole_is_cut_and_returned_as_given():
    long_first = [source(1, length=2000), source(2)]
    messages, given = rag_messages(
        PROFILE, "When is VAT due?", long_first, context_tokens=800, answer_tokens=100, count=words
    )
    assert [s.chunk_id for s in given] == ["chunk1"]
    assert given[0].text.endswith("…") and given[0].text in messages[-1]["content"]
    assert words(given[0].text) < 2000


def test_rag_rules_ask_for_numbered_citations_and_an_honest_no():
    messages, _ = rag_messages(
        PROFILE, "When?", [source(1)], context_tokens=2000, answer_tokens=200, count=words
    )
    system = messages[0]["content"]
    assert messages[0]["role"] == "system" and "Ada Lovelace" in system
    assert "[1]" in system and "sources do not contain the answer" in system


def test_closed_book_has_no_sources_and_no_citations():
    messages = closed_messages(
        PROFILE, "When?", context_tokens=2000, answer_tokens=200, count=words
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Do not cite" in messages[0]["content"] and "[1]" not in messages[0]["content"]
    assert messages[1]["content"] == "When?"


def test_few_shot_shows_the_best_examples_first_as_turns_and_skips_what_does_not_fit():
    examples = [
        ("Best question?", "Best answer."),
        ("Huge question?", "word " * 5000),
        ("Second question?", "Second answer."),
    ]
    messages = few_shot_messages(
        PROFILE, "New question?", examples, context_tokens=1000, answer_tokens=100, count=words
    )
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert [m["content"] for m in messages[1:]] == [
        "Best question?",
        "Best answer.",
        "Second question?",
        "Second answer.",
        "New question?",
    ]


def test_a_draft_carries_the_whole_style_and_cites_only_when_given_sources():
    plain = draft_messages(
        PROFILE, "A note on deadlines", context_tokens=2000, answer_tokens=500, count=words
    )
    system = plain[0]["content"]
    for rule in (
        "warm and direct",
        "short, under twenty words",
        "plain words, no legalese",
        "Give the figure first",
        "Never promise a refund",
        "HMRC manuals",
    ):
        assert rule in system
    assert "voice" in system and "cite" not in system
    cited = draft_messages(
        PROFILE,
        "A note on deadlines",
        context_tokens=2000,
        answer_tokens=500,
        count=words,
        sources=[source(1)],
    )
    assert "cite" in cited[0]["content"] and "[1] (guide1.pdf, page 1)" in cited[1]["content"]


def test_a_draft_under_pressure_keeps_influences_over_the_description():
    budget = 140
    draft = draft_messages(
        PROFILE, "A note", context_tokens=budget + 50, answer_tokens=50, count=words
    )
    answer = closed_messages(
        PROFILE, "A note", context_tokens=budget + 50, answer_tokens=50, count=words
    )
    assert "HMRC manuals" in draft[0]["content"]
    assert "HMRC manuals" not in answer[0]["content"]


def test_a_question_too_long_for_the_model_is_refused_not_cut():
    with pytest.raises(PromptTooLong, match="too long"):
        closed_messages(PROFILE, "why " * 500, context_tokens=400, answer_tokens=100, count=words)
    with pytest.raises(PromptTooLong):
        rag_messages(
            PROFILE, "When?", [source(1)], context_tokens=100, answer_tokens=100, count=words
        )


def test_no_sources_says_so():
    messages, given = rag_messages(
        PROFILE, "When?", [], context_tokens=2000, answer_tokens=200, count=words
    )
    assert given == [] and "none were found" in messages[-1]["content"]


def test_draft_prompt_returns_the_sources_the_draft_was_given():
    sources = [source(rank) for rank in range(1, 6)]
    messages, given = draft_prompt(
        PROFILE, "A note", context_tokens=600, answer_tokens=100, count=words, sources=sources
    )
    assert 0 < len(given) < len(sources)
    assert [s.n for s in given] == list(range(1, len(given) + 1))
    assert messages == draft_messages(
        PROFILE, "A note", context_tokens=600, answer_tokens=100, count=words, sources=sources
    )


def test_a_shorter_lower_ranked_source_never_jumps_ahead_of_one_that_did_not_fit():
    plain = Profile(name="Ada")
    first, second, tiny = source(1), source(2), source(3, length=3)
    with_first, _ = rag_messages(
        plain, "When?", [first], context_tokens=10_000, answer_tokens=0, count=words
    )
    room = prompt_tokens(with_first, words) + 8  # room for `tiny`, not for a useful cut of `second`
    _, given = rag_messages(
        plain,
        "When?",
        [first, second, tiny],
        context_tokens=room + 100,
        answer_tokens=100,
        count=words,
    )
    assert [s.chunk_id for s in given] == ["chunk1"]
