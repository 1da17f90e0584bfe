import numpy as np
import pytest

from services.expert.answering.citations import CheckedAnswer, check_citations
from services.expert.answering.scoring import score_answer, sentences
from services.expert.answering.sources import Source

SOURCES = [
    Source(n=n, document_id=f"d{n}", filename=f"f{n}.pdf", page=n, chunk_id=f"c{n}", text="…")
    for n in (1, 2)
]
ON, OFF = np.eye(4)[0], np.eye(4)[3]  # like a supporting passage's topic / an unrelated one
PASSAGES = np.stack([np.eye(4)[0], np.eye(4)[1]])
NONE = np.zeros((0, 4))

GROUNDED = (
    "VAT is charged at 20% [1]. Businesses register above £90,000 [2]. Returns are quarterly [1]."
)


CITED = "checked against SOURCES"


def scored(answer, vectors, passages=PASSAGES, mode="rag", checked=CITED, **kwargs):
    """`score_answer` of `answer`, its sentences' vectors `vectors`, its citations checked
    against SOURCES unless `checked` says otherwise."""
    return score_answer(
        mode=mode,
        answer=answer,
        checked=check_citations(answer, SOURCES) if checked is CITED else checked,
        sentence_vectors=np.stack(vectors) if vectors else NONE,
        passage_vectors=passages,
        **kwargs,
    )


def test_sentences_split_on_ends_and_list_items_without_markers():
    text = (
        "Dr. Smith agrees [1]. E.g. the rate is 20%! Is it due? [2]\n- Pay by May\n2. File online"
    )
    assert sentences(text) == [
        "Dr. Smith agrees.",
        "E.g. the rate is 20%!",
        "Is it due?",
        "Pay by May",
        "File online",
    ]
    assert sentences("") == [] and sentences("[1] [2]") == []


def test_a_grounded_well_cited_answer_scores_top_marks():
    score = scored(GROUNDED, [ON, ON, ON])
    assert score.parts.groundedness == 1.0 and score.parts.citation_validity == 1.0
    assert score.score == 10.0
    assert "3 of 3 sentences are supported by the source passages." in score.reasons


def test_ungrounded_sentences_lower_groundedness_and_the_score():
    grounded = scored(GROUNDED, [ON, ON, ON])
    partly = scored(GROUNDED, [ON, OFF, OFF])
    assert partly.parts.groundedness == pytest.approx(1 / 3)
    assert partly.score < grounded.score
    assert "1 of 3 sentences is supported by the source passages." in partly.reasons


def test_a_sentence_just_below_the_threshold_is_not_supported():
    close = np.array([0.3, 0.0, 0.0, np.sqrt(1 - 0.09)])
    assert scored("VAT is 20% [1].", [close]).parts.groundedness == 0.0


def test_invalid_citations_lower_the_score_and_are_explained():
    answer = "VAT is charged at 20% [1]. Businesses register above £90,000 [7]."
    score = scored(answer, [ON, ON])
    clean = scored("VAT is charged at 20% [1]. Businesses register above £90,000 [2].", [ON, ON])
    assert score.parts.citation_validity == 0.5
    assert score.score < clean.score
    assert "1 citation named no source and was removed." in score.reasons


def test_a_rag_answer_citing_nothing_gets_no_citation_credit():
    score = scored("VAT is charged at 20%. Businesses register above £90,000.", [ON, ON])
    assert score.parts.citation_validity == 0.0
    assert "The answer cites no source." in score.reasons


def test_repetition_is_detected_and_costs():
    loop = "The rate is twenty percent and it is due. " * 6
    score = scored(loop.strip(), [ON] * 6)
    assert score.parts.sanity < 0.5
    assert "The answer repeats itself." in score.reasons
    assert score.score < scored(GROUNDED, [ON, ON, ON]).score


def test_cut_off_short_and_empty_answers_lose_sanity():
    cut = scored(GROUNDED, [ON, ON, ON], max_tokens_hit=True)
    assert cut.parts.sanity < 1 and "The answer was cut off at the length limit." in cut.reasons
    assert scored("Yes [1].", [ON]).parts.sanity < 1
    empty = scored("", [])
    assert empty.score == 0.0 and "The answer is empty." in empty.reasons


def test_a_refusal_is_detected_and_capped():
    score = scored("I don't know.", [OFF])
    assert score.parts.refusal
    assert score.parts.groundedness is None and score.parts.citation_validity is None
    assert score.score <= 5.0
    assert "The expert declined to answer." in score.reasons


def test_declining_is_honest_when_the_passages_do_not_cover_the_question():
    answer = "The sources do not say when VAT is due."
    honest = scored(answer, [ON], question_vector=OFF)
    missed = scored(answer, [ON], question_vector=ON)
    assert honest.parts.refusal and missed.parts.refusal
    assert honest.score > missed.score
    assert any("declining is honest" in reason for reason in honest.reasons)
    assert any("look relevant" in reason for reason in missed.reasons)


def test_an_answer_that_mentions_a_gap_but_cites_is_not_a_refusal():
    answer = (
        "The sources do not give a date [1]. They do say the rate is 20% [1]. Pay quarterly [2]."
    )
    assert not scored(answer, [ON, ON, ON]).parts.refusal


def test_closed_book_is_not_judged_on_groundedness_or_citations():
    answer = "VAT is charged at 20%. Businesses register above £90,000."
    score = scored(answer, [OFF, OFF], NONE, mode="closed", checked=None)
    assert score.parts.groundedness is None and score.parts.citation_validity is None
    assert score.score == 10.0


@pytest.mark.parametrize(
    "answer",
    ["", "Yes.", GROUNDED, "no no no no no no no no no no no no", "I can't help with that [9]."],
)
def test_score_is_within_zero_and_ten_with_one_decimal(answer):
    vectors = [ON] * len(sentences(answer))
    for mode in ("rag", "closed", "draft"):
        score = scored(answer, vectors, mode=mode, max_tokens_hit=True)
        assert 0.0 <= score.score <= 10.0 and score.score == round(score.score, 1)


def test_vectors_must_match_the_sentences():
    with pytest.raises(ValueError, match="one row each"):
        scored(GROUNDED, [ON])


def test_without_passages_the_sentences_need_no_vectors():
    score = score_answer(
        mode="closed",
        answer="VAT is charged at 20%. Businesses register above £90,000.",
        checked=None,
        sentence_vectors=np.zeros((0, 0)),
        passage_vectors=np.zeros((0, 0)),
    )
    assert score.score == 10.0


def test_valid_markers_alone_show_an_answer_is_not_a_refusal():
    answer = "The sources do not give a date [1]. The rate is 20% [1]."
    from_counts = CheckedAnswer(text=answer, cited=[], removed=0, markers=2)
    score = scored(answer, [ON, ON], checked=from_counts)
    assert not score.parts.refusal
