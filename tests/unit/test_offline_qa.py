import re

from contracts.answers import Citation
from contracts.dataset import Provenance
from services.dataset.model_qa import backend_prompt, parse_backend_reply
from services.dataset.offline_qa import knowledge_candidates, questions_from_passage

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


def test_headings_are_found_without_their_numbering():
    found = dict(pairs())
    assert found["What does the document say about VAT registration?"] == (
        "You must register for VAT when your taxable turnover goes over £90,000 in a rolling "
        "12-month period."
    )
    assert found["What does the document say about penalties?"].startswith("Late returns")


def test_key_sentences_are_asked_about_by_their_subject_and_the_filename():
    found = dict(pairs())
    assert found["What does vat-guide.pdf say about the standard rate of VAT?"] == (
        "The standard rate of VAT is 20% for most goods and services sold in the UK."
    )


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


def test_without_a_filename_the_document_is_named_generically():
    assert all("vat-guide" not in q for q, _ in pairs(filename=""))


def passage(n, text):
    return {
        "document_id": f"d{n}",
        "filename": f"doc{n}.pdf",
        "page": n,
        "chunk_id": f"c{n}",
        "text": text,
    }


def test_knowledge_candidates_spread_over_passages_and_cite_their_passage():
    other = (
        "A payslip is a document that shows what an employee was paid and what was deducted.\n"
        "Pensions are savings that an employer must offer to staff earning over £10,000."
    )
    passages = [passage(1, PASSAGE), passage(2, other)]
    found = knowledge_candidates(passages, questions=5, system="You are a tax expert.")
    assert [c.group for c in found] == ["c1", "c2", "c1", "c2", "c1"]
    assert found[1].question == "What is a payslip?"
    first = found[0]
    assert first.source == "knowledge" and first.tags == ["offline"]
    assert first.system == "You are a tax expert."
    assert first.answer.endswith(" [1]") and first.answer[: -len(" [1]")] in collapse(PASSAGE)
    assert first.citations == [
        Citation(n=1, document_id="d1", filename="doc1.pdf", page=1, chunk_id="c1")
    ]
    assert first.provenance == Provenance(
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


def test_a_key_sentence_without_a_subject_is_asked_about_its_named_term():
    text = (
        "Under Making Tax Digital, businesses file returns online every quarter.\n"
        "From April 2024 the threshold rose for every business in the country."
    )
    assert pairs(text) == [
        (
            "What does vat-guide.pdf say about Making Tax Digital?",
            "Under Making Tax Digital, businesses file returns online every quarter.",
        )
    ]
