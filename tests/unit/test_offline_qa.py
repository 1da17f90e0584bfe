import re

from contracts.dataset import Provenance
from contracts.prompting import NOT_COVERED, RAG_RULES, question_in
from services.dataset.model_qa import backend_prompt, parse_backend_reply
from services.dataset.offline_qa import knowledge_candidates, questions_from_passage
from services.dataset.sentences import sentences
from tests.support.raft_manual import (
    CHAPTERS,
    CONTENTS,
    FRONT,
    INDEX,
    LICENCE,
    PAGES,
    TEACHING_PAGES,
)

PASSAGE = """ing threshold in the previous tax year, as explained above.

3.1 VAT registration
You must register for VAT when your taxable turnover goes over £90,000 in a rolling
12-month period. Registration is done online.

A VAT return is a form that you send to HMRC every quarter to report the VAT you charged.
Input tax means the VAT you pay on goods and services you buy for the business.
It is a tax on spending that most shops collect for the government.
Zero-rated goods are goods that still count as taxable supplies but carry no VAT.
The standard rate of VAT is 20% for most goods and services sold in the UK.
Short one. Tiny bit here.
Penalties
Late returns attract a surcharge based on how many defaults occurred in the period.
This sentence is cut off in the middle because the chunk ended right"""


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pairs(text=PASSAGE, limit=50, filename="vat-guide.pdf"):
    return questions_from_passage(text, limit=limit, filename=filename)


def test_every_answer_is_whole_sentences_of_the_passage():
    found = pairs()
    assert found
    for _, answer in found:
        assert answer in collapse(PASSAGE)
        assert answer[0].isupper() and answer.endswith(".")
        assert len(answer.split()) >= 6


def test_definitions_are_found():
    found = dict(pairs())
    assert found["What is a VAT return?"].startswith("A VAT return is a form that you send")
    assert found["What is input tax?"].startswith("Input tax means the VAT you pay")
    assert found["What are zero-rated goods?"].startswith("Zero-rated goods are goods")


def test_headings_ask_about_the_section_subject_without_their_numbering():
    found = dict(pairs())
    assert found["What is VAT registration?"] == (
        "You must register for VAT when your taxable turnover goes over £90,000 in a rolling "
        "12-month period."
    )
    assert found["What do you need to know about penalties?"].startswith("Late returns")


def test_amounts_are_asked_about_by_their_subject():
    found = dict(pairs())
    assert found["What is the standard rate of VAT?"] == (
        "The standard rate of VAT is 20% for most goods and services sold in the UK."
    )


def test_no_question_names_the_file_or_asks_what_it_says():
    for question, _ in pairs():
        assert "say about" not in question and "vat-guide" not in question


MANUAL = """2.3 Installing packages
To install a package from CRAN, run install.packages() with the package name.
The library() function does not load a package when it is not installed.
You can update all packages by calling update.packages() with ask set to FALSE.
A package works only if its dependencies are installed.
Scripts cannot be run from the console while a package is loading.
The loader does not read hidden files unless they are listed.
The save command requires a file name and an object list.
Mooring fees are paid to the harbour master every April.

Saving your work
Click File and choose Save As. Type a name for the workspace and press Enter.

Introduction
This chapter is a gentle tour of the tools and what they are for."""


def test_procedures_are_asked_as_how_to_questions():
    found = dict(pairs(MANUAL))
    assert found["How do you install a package from CRAN?"].startswith("To install a package")
    assert found["How can you update all packages?"].startswith("You can update all packages")
    assert found["How do you go about saving your work?"] == (
        "Click File and choose Save As. Type a name for the workspace and press Enter."
    )


def test_caveats_are_asked_as_when_or_can_questions():
    found = dict(pairs(MANUAL))
    assert found["When does the library() function not load a package?"].startswith(
        "The library() function does not load"
    )
    assert found["When does a package work?"].startswith("A package works only if")
    assert found["When can scripts not be run from the console?"].startswith("Scripts cannot")
    assert found["When does the loader read hidden files?"].startswith("The loader does not")


def test_facts_are_asked_by_what_they_tell():
    found = dict(pairs(MANUAL))
    assert found["What does the save command require?"].startswith("The save command requires")
    assert found["When are mooring fees paid?"].startswith("Mooring fees are paid")


def test_a_one_letter_word_ends_a_sentence_and_an_initial_does_not():
    text = (
        "Packages are collections of functions that extend R. They are kept in libraries.\n"
        "The Quillmark light was designed by John F. Kennedy of the harbour board."
    )
    assert sentences(text) == [
        "Packages are collections of functions that extend R.",
        "They are kept in libraries.",
        "The Quillmark light was designed by John F. Kennedy of the harbour board.",
    ]
    found = dict(pairs(text))
    assert found["What are packages?"] == "Packages are collections of functions that extend R."


def test_generic_headings_give_no_question():
    assert not any("introduction" in q.lower() for q, _ in pairs(MANUAL))


def test_contents_index_and_licence_pages_give_no_question():
    for page in (CONTENTS, INDEX, LICENCE, FRONT):
        assert pairs(page) == [], page
    for chapter in CHAPTERS:
        assert pairs(chapter)


def test_fragments_pronoun_subjects_and_cut_sentences_give_no_question():
    answers = " ".join(answer for _, answer in pairs())
    for left_out in ("ing threshold", "Short one", "Tiny bit", "cut off", "It is a tax"):
        assert left_out not in answers
    assert pairs("Short text here.\nAnother tiny one.") == []


def test_the_same_passage_gives_the_same_pairs_and_the_limit_keeps_the_best():
    assert pairs() == pairs()
    assert pairs(limit=2) == pairs()[:2]
    assert pairs(limit=0) == []


def test_no_answer_or_question_is_used_twice():
    questions, answers = zip(*pairs(), strict=True)
    assert len(set(questions)) == len(questions) and len(set(answers)) == len(answers)


def passage(n, text, filename=None):
    return {
        "document_id": f"d{n}",
        "filename": filename or f"doc{n}.pdf",
        "page": n,
        "chunk_id": f"c{n}",
        "text": text,
    }


def manual_passages():
    return [passage(n, text, "harbour.pdf") for n, text in enumerate(PAGES, start=1)]


def shown(candidate):
    """The passages of an example's user message: {n: (filename, page, text)}."""
    found = re.findall(
        r"\[(\d+)\] \((.+?), page (\d+)\)\n(.*?)(?=\n\n\[\d+\] \(|\n\nQuestion: )",
        candidate.question,
        re.DOTALL,
    )
    return {int(n): (name, int(page), text) for n, name, page, text in found}


def test_each_example_shows_its_passage_among_distractors_and_cites_its_number():
    found = knowledge_candidates(manual_passages(), questions=30, system="You are the keeper.")
    covered = [c for c in found if "not-covered" not in c.tags]
    assert len(covered) >= 10
    for c in covered:
        question = question_in(c.question)
        assert question.endswith("?") and "Sources:" not in question
        [citation] = c.citations
        passages = shown(c)
        assert 3 <= len(passages) <= 5 and sorted(passages) == list(range(1, len(passages) + 1))
        name, page, text = passages[citation.n]
        assert (name, page) == ("harbour.pdf", citation.page) == ("harbour.pdf", c.provenance.page)
        said = c.answer.removesuffix(f" [{citation.n}]")
        assert c.answer.endswith(f" [{citation.n}]") and said in collapse(text)
        others = [t for n, (_, _, t) in passages.items() if n != citation.n]
        assert not any(said in collapse(t) for t in others)
        assert c.system == f"You are the keeper.\n\n{RAG_RULES}"
        assert c.source == "knowledge" and c.tags == ["offline"] and c.group == citation.chunk_id
    assert len({c.citations[0].n for c in covered}) >= 3  # the answer is not always [1]


def test_no_example_comes_from_or_shows_a_contents_index_or_licence_page():
    boiler = {n for n in range(1, len(PAGES) + 1)} - TEACHING_PAGES
    for c in knowledge_candidates(manual_passages(), questions=30, system=""):
        assert c.provenance.page in TEACHING_PAGES
        assert not {page for _, page, _ in shown(c).values()} & boiler
        assert c.system == RAG_RULES


def test_about_one_in_eight_examples_shows_no_answer_and_says_so():
    many = [passage(n, PASSAGE if n % 2 else MANUAL) for n in range(1, 9)]
    found = knowledge_candidates(many, questions=40, system="")
    missing = [c for c in found if "not-covered" in c.tags]
    assert len(found) // 8 <= len(missing) <= len(found) // 8 + 1 and missing
    for c in missing:
        assert c.answer == NOT_COVERED and c.citations == []
        assert c.provenance.chunk_id == c.group  # the question's own passage, not shown
        question_passage = next(p for p in many if p["chunk_id"] == c.group)
        assert (question_passage["filename"], question_passage["page"]) not in {
            (name, page) for name, page, _ in shown(c).values()
        }
        assert len(shown(c)) >= 2


def test_distractors_share_words_with_the_question():
    found = knowledge_candidates(manual_passages(), questions=30, system="", seed=5)
    tide = next(c for c in found if question_in(c.question) == "What is a tide table?")
    pages = [page for _, page, _ in shown(tide).values()]
    assert 4 in pages  # the page about the tide console: a hard negative


def test_the_same_seed_gives_the_same_examples_and_another_seed_others():
    one = knowledge_candidates(manual_passages(), questions=30, system="", seed=1)
    assert one == knowledge_candidates(manual_passages(), questions=30, system="", seed=1)
    two = knowledge_candidates(manual_passages(), questions=30, system="", seed=2)
    assert [question_in(c.question) for c in one] == [question_in(c.question) for c in two]
    assert [c.question for c in one] != [c.question for c in two]


def test_a_neighbouring_chunk_that_holds_the_answer_is_no_distractor():
    text = "A berth is a place in the harbour where one boat is kept for a season."
    overlap = passage(2, "Berths and more.\n" + text)
    given = [passage(1, text), overlap, *manual_passages()[3:7]]
    for seed in range(8):
        [first] = knowledge_candidates(given, questions=1, system="", seed=seed)
        if first.citations:
            assert first.citations[0].chunk_id == "c1"
        assert sum(text in collapse(t) for _, _, t in shown(first).values()) == len(first.citations)


def test_knowledge_candidates_spread_over_passages():
    other = (
        "A payslip is a document that shows what an employee was paid and what was deducted.\n"
        "Pensions are savings that an employer must offer to staff earning over £10,000."
    )
    passages = [passage(1, PASSAGE), passage(2, other)]
    found = knowledge_candidates(passages, questions=5, system="You are a tax expert.")
    assert [c.group for c in found] == ["c1", "c2", "c1", "c2", "c1"]
    assert question_in(found[1].question) == "What is a payslip?"
    assert found[0].provenance == Provenance(
        document_id="d1", filename="doc1.pdf", page=1, chunk_id="c1"
    )


def test_overlapping_passages_do_not_ask_the_same_question_twice():
    overlap = {**passage(2, PASSAGE), "filename": "doc1.pdf"}
    found = knowledge_candidates([passage(1, PASSAGE), overlap], questions=100, system="")
    assert len(found) == len(pairs(filename="doc1.pdf"))


def test_passages_may_be_objects():
    class Passage:
        document_id, filename, page, chunk_id, text = "d1", "a.pdf", 2, "c1", PASSAGE

    assert knowledge_candidates([Passage()], questions=1, system="")[0].group == "c1"


def test_the_backend_prompt_carries_the_passage_and_asks_for_json():
    messages = backend_prompt("The standard rate is 20%.")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "The standard rate is 20%." in messages[-1]["content"]
    assert '"question"' in messages[0]["content"] and "ONE question" in messages[-1]["content"]


def test_backend_replies_are_read_through_fences_and_chatter():
    fenced = 'Sure!\n```json\n{"question": " What is VAT? ", "answer": "A tax."}\n```\nDone.'
    assert parse_backend_reply(fenced) == ("What is VAT?", "A tax.")
    assert parse_backend_reply('{"x": {"question": "Q?", "answer": "A."}}') == ("Q?", "A.")


def test_unusable_backend_replies_give_none():
    for reply in (
        "",
        "no json here",
        '{"question": "Q?"}',
        '{"question": "Q?", "answer": " "}',
        '{"question": 1, "answer": "A."}',
        '["Q?", "A."]',
        '{"question": "Q?", "answer',
    ):
        assert parse_backend_reply(reply) is None, reply
