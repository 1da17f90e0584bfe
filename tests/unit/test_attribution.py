"""Attribution after generation: sentences tied to the passage that supports them, wrong
citations corrected, invented sentences flagged — with the real embedder from its wheel
(the session's `embedder` fixture) on sentences of the labelled set."""

import pytest

from services.expert.answering.attribution import (
    Claim,
    attribute,
    split_sentences,
    supported_share,
)
from tests.support.attribution_cases import case, sources

model = pytest.mark.slow  # loads all-MiniLM-L6-v2 from its wheel


@model
def test_a_sentence_copied_from_passage_2_is_cited_2(embedder):
    sentence = case("camera", 2, "copied").sentence

    claims = attribute(sentence, sources("camera"), embedder.encode)

    assert claims == [Claim(text=sentence, citations=[2], support="supported")]


@model
def test_an_invented_sentence_is_flagged_unsupported_and_loses_its_citation(embedder):
    invented = case("statistics", 2, "invented").sentence  # solve() "from the lm package"
    answer = invented.removesuffix(".") + " [2]."

    (claim,) = attribute(answer, sources("statistics"), embedder.encode)

    assert claim == Claim(text=invented, citations=[], support="unsupported")


@model
def test_a_wrong_citation_is_replaced_by_the_passage_that_supports_the_sentence(embedder):
    sentence = case("database", 3, "copied").sentence
    answer = sentence.removesuffix(".") + " [1]."

    (claim,) = attribute(answer, sources("database"), embedder.encode)

    assert claim.support == "supported"
    assert claim.citations == [3]
    assert claim.text == sentence  # the model's marker is not left in the text


@model
def test_the_models_own_right_citation_is_kept_on_a_paraphrase(embedder):
    paraphrase = case("database", 2, "paraphrased", 1).sentence
    answer = paraphrase.removesuffix(".") + " [2]."

    (claim,) = attribute(answer, sources("database"), embedder.encode)

    assert (claim.support, claim.citations) == ("supported", [2])


@model
def test_a_mixed_answer_gets_one_verdict_per_sentence_in_order(embedder):
    copied = case("camera", 1, "copied").sentence
    invented = case("camera", 3, "invented", 1).sentence
    answer = f"Here is how it works. {copied} [1] {invented}\n\nAnything else?"

    claims = attribute(answer, sources("camera"), embedder.encode)

    assert [(c.text, c.citations, c.support) for c in claims] == [
        ("Here is how it works.", [], "not_a_claim"),
        (copied, [1], "supported"),
        (invented, [], "unsupported"),
        ("Anything else?", [], "not_a_claim"),
    ]
    assert supported_share(claims) == 0.5


def test_with_no_passages_every_claim_is_unsupported_and_nothing_is_embedded():
    def embed(texts):
        raise AssertionError(f"nothing to compare, yet asked to embed {texts}")

    claims = attribute("The lamp blinks while charging [1]. Sure.", [], embed)

    assert [(c.citations, c.support) for c in claims] == [
        ([], "unsupported"),
        ([], "not_a_claim"),
    ]


def test_sentences_keep_abbreviations_decimals_code_and_markers_intact():
    answer = (
        "Use a fast lens, e.g. a 50 mm f/1.8 at 3.5 m [2]. Version 3.5 added it. "
        "Call `os.path.join(a, b). Then` once. It is done. [1] See Fig. 3 for more!"
    )

    assert split_sentences(answer) == [
        "Use a fast lens, e.g. a 50 mm f/1.8 at 3.5 m [2].",
        "Version 3.5 added it.",
        "Call `os.path.join(a, b). Then` once.",
        "It is done. [1]",
        "See Fig. 3 for more!",
    ]


def test_list_items_headings_and_code_blocks_are_pieces_of_their_own():
    answer = (
        "## Formatting\n"
        "To format a card:\n"
        "1. Press MENU. Choose the slot.\n"
        "- Press OK [3], then wait\n"
        "  until it finishes.\n"
        "```\nformat(card). done\n```\n"
        "That is all."
    )

    assert split_sentences(answer) == [
        "Formatting",
        "To format a card:",
        "Press MENU.",
        "Choose the slot.",
        "Press OK [3], then wait\n  until it finishes.",
        "```\nformat(card). done\n```",
        "That is all.",
    ]


def test_supported_share_counts_claims_only():
    supported = Claim(text="The lamp blinks.", citations=[1], support="supported")
    unsupported = Claim(text="It charges over USB.", support="unsupported")
    aside = Claim(text="Sure.")

    assert supported_share([supported, unsupported, unsupported, aside]) == pytest.approx(1 / 3)
    assert supported_share([supported, aside]) == 1.0
    assert supported_share([aside]) is None
    assert supported_share([]) is None


@model
def test_an_answer_of_markers_alone_is_said_in_words_and_keeps_where_it_pointed(embedder):
    from services.expert.answering.attribution import read, with_citations
    from services.expert.answering.grounding import in_words

    shown = in_words(" [2] [2].")
    reading = read(shown, sources("camera"))
    claims = reading.claims(embedder.encode(reading.texts) if reading.texts else None)

    assert shown == "The model wrote no words of its own; it pointed to source [2]."
    assert [c.support for c in claims] == ["not_a_claim"]  # never flagged as unsupported
    assert with_citations(reading, claims, shown) == shown
    assert in_words("Press the shutter [2].") == "Press the shutter [2]."
