import pytest

from services.expert.answering.citations import check_citations, strip_markers
from services.expert.answering.sources import Source

THREE = [
    Source(n=n, document_id=f"d{n}", filename=f"f{n}.pdf", page=n, chunk_id=f"c{n}", text="…")
    for n in (1, 2, 3)
]


def numbers(checked):
    return [s.n for s in checked.cited]


def test_valid_markers_are_kept_verbatim_and_counted():
    answer = "VAT is 20% [1]. Register at £90,000 [ 2 ]. Food is zero-rated [1, 3]."
    checked = check_citations(answer, THREE)
    assert checked.text == answer
    assert (checked.markers, checked.removed) == (4, 0)
    assert numbers(checked) == [1, 2, 3]


def test_a_marker_naming_no_source_is_removed_without_leaving_a_gap():
    checked = check_citations("VAT is 20% [7]. It is due monthly [0], they say.", THREE)
    assert checked.text == "VAT is 20%. It is due monthly, they say."
    assert (checked.markers, checked.removed, checked.cited) == (2, 2, [])


@pytest.mark.parametrize(
    ("answer", "tidy"),
    [
        ("Due in May [9] and June.", "Due in May and June."),
        ("Due in May[9] and June.", "Due in May and June."),
        ("[9] Due in May.", "Due in May."),
        ("Due in May [9]\nNext line.", "Due in May\nNext line."),
        ("Due in May [9] [1].", "Due in May [1]."),
        ("Due in May [9][1].", "Due in May [1]."),
        ("Due in May [1][9].", "Due in May [1]."),
        ("Due in May [9]", "Due in May"),
    ],
)
def test_removal_leaves_the_text_tidy(answer, tidy):
    assert check_citations(answer, THREE).text == tidy


def test_in_a_group_only_the_bad_numbers_go():
    checked = check_citations("Both agree [2, 7, 1; 12].", THREE)
    assert checked.text == "Both agree [2, 1]."
    assert (checked.markers, checked.removed) == (4, 2)
    assert numbers(checked) == [2, 1]


def test_adjacent_markers_are_separate_and_cited_in_order_of_first_appearance():
    checked = check_citations("First [3][1]. Then [1][2]. Again [3].", THREE)
    assert numbers(checked) == [3, 1, 2]
    assert checked.markers == 5 and checked.removed == 0


def test_cited_sources_are_the_given_objects_matched_by_their_number():
    shuffled = [THREE[2], THREE[0]]
    checked = check_citations("A [3]. B [1]. C [2].", shuffled)
    assert checked.cited == [THREE[2], THREE[0]]
    assert checked.removed == 1


@pytest.mark.parametrize(
    "answer",
    [
        "Items [a] and list[int] stay.",
        "A ratio of [1.5] stays.",
        "In [2024] the rules changed.",
        "A range [1-3] is not checked.",
        "Footnote[^4] stays.",
        "See [1](https://example.com) and [9](https://example.com).",
        "Use `xs[0]` or `xs[9]` in code.",
        "```\nrows[42] = 1\n```",
    ],
)
def test_brackets_that_are_not_citations_are_left_alone(answer):
    checked = check_citations(answer, THREE)
    assert checked.text == answer
    assert (checked.markers, checked.removed) == (0, 0)


def test_with_no_sources_every_citation_is_invalid():
    checked = check_citations("It is so [1].", [])
    assert checked.text == "It is so." and checked.removed == 1


def test_strip_markers_drops_every_marker_tidily():
    assert strip_markers("VAT is 20% [1][2]. Due [3, 4] soon [5].") == "VAT is 20%. Due soon."
