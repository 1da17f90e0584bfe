"""A question written by a model becomes the same RAFT example as an offline one: its own
[n] markers dropped, the passage's number cited, the persona followed by the RAG rules."""

from contracts.prompting import RAG_RULES, question_in
from services.dataset.raft import Written, raft_candidates, system_message
from tests.support.raft_manual import PAGES


def passages():
    return [
        {"document_id": "d", "filename": "m.pdf", "page": n, "chunk_id": f"c{n}", "text": t}
        for n, t in enumerate(PAGES, start=1)
    ]


def test_a_models_own_markers_are_replaced_by_the_passages_number():
    given = passages()
    written = [Written(given[4], "How is a berth booked?", "Open the planner [1] and book [2].")]
    [example] = raft_candidates(written, given, system="You are the keeper.", seed=3, tag="backend")
    [citation] = example.citations
    assert example.answer == f"Open the planner and book. [{citation.n}]"
    assert f"[{citation.n}] (m.pdf, page 5)" in example.question
    assert question_in(example.question) == "How is a berth booked?"
    assert example.tags == ["backend"] and example.system.endswith(RAG_RULES)


def test_the_system_message_is_the_persona_then_the_rules():
    assert system_message("You are the keeper.") == f"You are the keeper.\n\n{RAG_RULES}"
    assert system_message("  ") == RAG_RULES


def test_with_a_single_passage_the_example_shows_it_alone():
    only = passages()[3:4]
    written = [Written(only[0], "What is a berth?", "A berth is a place in the harbour.")]
    [example] = raft_candidates(written, only, system="", seed=0, tag="offline")
    assert example.citations[0].n == 1 and example.answer.endswith(" [1]")
