from contracts.answers import Citation
from contracts.dataset import Provenance
from services.dataset.candidates import Candidate, example_id
from services.dataset.split import assign, side, sides


def candidate(group, question="What is VAT?", answer="A tax.", **kw):
    return Candidate(
        source="knowledge",
        question=question,
        answer=answer,
        system=kw.pop("system", "You are an expert."),
        group=group,
        provenance=Provenance(chunk_id=group),
        **kw,
    )


GROUPS = [f"chunk-{n}" for n in range(1000)]


def split_of(seed):
    return {g: side(g, seed) for g in GROUPS}


def test_the_same_seed_gives_the_same_split_and_another_seed_a_different_one():
    assert split_of(3) == split_of(3)
    assert split_of(3) != split_of(4)


def test_about_a_tenth_of_the_groups_validate():
    val = sum(s == "val" for s in split_of(0).values())
    assert 70 <= val <= 130


def test_val_share_is_honoured():
    val = sum(side(g, 0, val_share=0.5) == "val" for g in GROUPS)
    assert 430 <= val <= 570


def test_a_group_is_never_on_both_sides():
    pool = [candidate(g, question=f"Q{n} about {g}?") for g in GROUPS[:300] for n in range(3)]
    by_group = {}
    for c, example in zip(pool, assign(pool, seed=5), strict=True):
        by_group.setdefault(c.group, set()).add(example.split)
    assert all(len(found) == 1 for found in by_group.values())
    assert {s for found in by_group.values() for s in found} == {"train", "val"}


def test_edits_and_additions_do_not_move_other_examples():
    pool = [candidate(g, question=f"About {g}?") for g in GROUPS[:200]]
    before = {e.id: e.split for e in assign(pool, seed=1)}
    edited = [*pool]
    edited[10] = candidate(pool[10].group, question="About it, edited?")
    added = edited + [candidate("new-chunk", question="New?"), candidate(GROUPS[3], "More?")]
    after = {e.id: e.split for e in assign(added, seed=1)}
    assert all(after[i] == s for i, s in before.items() if i in after)
    assert after[example_id(edited[10])] == before[example_id(pool[10])]
    assert after[example_id(added[-1])] == before[example_id(pool[3])]


def test_two_groups_always_give_one_example_to_each_side():
    for seed in range(200):
        placed = sides({"a", "b"}, seed)
        assert sorted(placed.values()) == ["train", "val"], seed


def test_when_every_group_validates_the_one_nearest_train_moves_back():
    placed = sides({"a", "b", "c"}, seed=0, val_share=1.0)
    assert sorted(placed.values()) == ["train", "val", "val"]
    assert placed == sides({"c", "b", "a"}, seed=0, val_share=1.0)


def test_one_group_stays_where_the_hash_puts_it():
    assert sides({"only"}, seed=0, val_share=0.0) == {"only": "train"}


def test_the_example_carries_the_candidate_with_messages_in_role_order():
    citation = Citation(n=1, document_id="d1", filename="guide.pdf", page=4, chunk_id="c1")
    c = candidate("c1", citations=[citation], score=8.5, rejected="Old answer.", tags=["offline"])
    (example,) = assign([c], seed=0)
    assert [(m.role, m.content) for m in example.messages] == [
        ("system", "You are an expert."),
        ("user", "What is VAT?"),
        ("assistant", "A tax."),
    ]
    assert example.id == example_id(c) and len(example.id) == 16
    assert (example.source, example.score, example.rejected) == ("knowledge", 8.5, "Old answer.")
    assert example.citations == [citation] and example.tags == ["offline"]
    assert example.provenance == Provenance(chunk_id="c1")


def test_an_empty_system_prompt_is_left_out():
    (example,) = assign([candidate("c1", system="")], seed=0)
    assert [m.role for m in example.messages] == ["user", "assistant"]
