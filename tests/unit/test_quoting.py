"""An answer worth reading when the model is small: quotes from the top passages lead it,
each with its citation, and the model's words follow, marked as its own; citations in the
model's text become those its sentences earned."""

import numpy as np
import pytest

from services.expert.answering import quoting
from services.expert.answering.attribution import attribute, read, with_citations
from services.expert.answering.sources import Source
from tests.support.attribution_cases import case, sources

model = pytest.mark.slow  # loads all-MiniLM-L6-v2 from its wheel


def choose(question: str, given: list[Source], encode) -> list[quoting.Quote]:
    reading = read("", given)
    passages = [s for part in reading.passage_sentences for s in part]
    vectors = encode([question, *passages])
    numbers = [s.n for s in given]
    return quoting.choose(question, vectors[0], reading.passage_sentences, vectors[1:], numbers)


@model
@pytest.mark.parametrize(
    ("question", "n", "words"),
    [
        ("How long does the battery take to charge?", 1, "two hours and thirty minutes"),
        ("How do I format a memory card?", 3, "Press MENU"),
    ],
)
def test_the_quote_is_the_sentence_that_answers_with_its_passage_number(
    embedder, question, n, words
):
    given = sources("camera")

    quotes = choose(question, given, embedder.encode)

    assert quotes, f"nothing quoted for a question passage {n} answers"
    assert quotes[0].n == n and any(words in q.text for q in quotes), quotes
    assert all(q.text in given[q.n - 1].text for q in quotes)  # word for word


@model
def test_a_question_the_passages_do_not_touch_gets_no_quote(embedder):
    quotes = choose("Who won the football world cup in 1966?", sources("camera"), embedder.encode)

    assert quotes == []


def test_contents_lines_headings_and_fragments_are_never_quoted():
    assert not quoting.quotable("2.3 Configuring sources . . . . . . . . . . . . 14")
    assert not quoting.quotable("Configuring sources")
    assert not quoting.quotable("1 2 3 4 5 6 7 8 9 10.")
    assert not quoting.quotable("See below.")
    assert quoting.quotable("Cached copies are refreshed only by tallyctl pull, never by a run.")


def test_the_setting_decides_and_auto_leads_for_the_bundled_model_or_weak_support():
    lead = quoting.should_lead
    assert lead("always", bundled=False, support=1.0)
    assert not lead("never", bundled=True, support=0.0)
    assert lead("auto", bundled=True, support=1.0)
    assert lead("auto", bundled=False, support=0.25)
    assert not lead("auto", bundled=False, support=0.75)
    assert not lead("auto", bundled=False, support=None)  # nothing claimed: nothing to fix


def test_the_lead_quotes_first_then_marks_the_models_words_as_its_own():
    quotes = [quoting.Quote("Charging takes two hours.", 2, 0.8)]

    shown = quoting.lead(quotes, "It charges quickly.")

    assert shown.splitlines() == [
        quoting.DOCUMENTS_SAY,
        "> Charging takes two hours. [2]",
        "",
        quoting.MODEL_SAYS,
        "It charges quickly.",
    ]
    (claim,) = quoting.quote_claims(quotes)
    assert (claim.citations, claim.support, claim.origin) == ([2], "supported", "documents")


@model
def test_markers_in_the_text_become_the_ones_each_sentence_earned(embedder):
    copied = case("database", 3, "copied").sentence.rstrip(".")
    invented = case("camera", 3, "invented", 1).sentence.rstrip(".")
    text = f"- {copied} [1].\n- {invented} [2].\n\n```\ncode [3]\n```"
    given = sources("database")

    claims = attribute(text, given, embedder.encode)
    shown = with_citations(read(text, given), claims, text)

    assert shown == f"- {copied} [3].\n- {invented}.\n\n```\ncode [3]\n```"


def test_rewriting_markers_keeps_text_that_is_no_claim_as_written():
    given = [Source(1, "d", "a.pdf", 1, "c", "The lamp blinks while charging.")]
    text = "Sure!   Here it is: [1]"

    def embed(texts):
        return np.ones((len(texts), 3))

    reading = read(text, given)
    claims = reading.claims(embed(reading.texts) if reading.texts else None)

    assert with_citations(reading, claims, text) == text
