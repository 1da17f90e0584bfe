from services.knowledge.fusion import fuse


def test_an_item_found_by_both_searches_outranks_one_found_by_one():
    fused = fuse([["a", "b", "c"], ["c", "d"]], k=4)
    assert [item for item, _ in fused][:1] == ["c"]
    assert {item for item, _ in fused} == {"a", "b", "c", "d"}


def test_first_in_every_list_scores_one_and_k_limits():
    fused = fuse([["a", "b"], ["a", "b"]], k=1)
    assert fused == [("a", 1.0)]


def test_empty_rankings_give_nothing():
    assert fuse([[], []], k=5) == []


def test_items_put_last_only_fill_the_places_the_others_leave():
    # "toc" is first in both lists (a contents page that shares the question's words)
    fused = fuse([["toc", "a", "b"], ["toc", "b", "c"]], k=3, last={"toc"})
    assert [item for item, _ in fused] == ["b", "a", "c"]
    fused = fuse([["toc", "a"], ["toc"]], k=3, last={"toc"})
    assert [item for item, _ in fused] == ["a", "toc"]


def test_scores_never_rise_down_the_list_when_items_are_put_last():
    fused = fuse([["toc", "a", "b"], ["toc", "c"]], k=5, last={"toc"})
    scores = [score for _, score in fused]
    assert fused[-1][0] == "toc"
    assert scores == sorted(scores, reverse=True)
