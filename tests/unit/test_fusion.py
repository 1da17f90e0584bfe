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
