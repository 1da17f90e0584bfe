import json

import pytest

from contracts.dataset import ManualExample
from services.dataset.manual_import import ManualImportError, parse_manual_jsonl


def lines(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


GOOD = {"question": "What is VAT?", "answer": "A tax on spending."}


def refused(data: bytes, **kw) -> str:
    with pytest.raises(ManualImportError) as caught:
        parse_manual_jsonl(data, **kw)
    return str(caught.value)


def test_question_and_answer_lines_become_examples_with_their_tags():
    data = lines(GOOD, {"question": " Rate? ", "answer": "20%.", "tags": ["rates"]})
    assert parse_manual_jsonl(data) == [
        ManualExample(question="What is VAT?", answer="A tax on spending."),
        ManualExample(question="Rate?", answer="20%.", tags=["rates"]),
    ]


def test_the_chat_form_is_accepted_and_a_leading_system_message_ignored():
    chat = {
        "messages": [
            {"role": "system", "content": "You are an accountant."},
            {"role": "user", "content": "What is VAT?"},
            {"role": "assistant", "content": "A tax on spending."},
        ]
    }
    assert parse_manual_jsonl(lines(chat)) == [ManualExample(**GOOD)]


def test_blank_lines_are_skipped_and_still_counted_in_line_numbers():
    data = lines(GOOD, "", "   ", {"question": "Rate?"})
    assert refused(data) == "line 4: answer is missing"
    assert len(parse_manual_jsonl(lines("", GOOD, "\r", GOOD) + b"\r\n")) == 2


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"question": "Q?"}, "line 2: answer is missing"),
        ({"question": "Q?", "answer": "  "}, "line 2: answer is empty"),
        ({"question": 7, "answer": "A."}, "line 2: question must be text"),
        ({"question": "Q?", "answer": "A.", "promt": "x"}, 'line 2: unknown field "promt"'),
        ('{"question": "Q?", "answer": ', "line 2: is not valid JSON"),
        ('["Q?", "A."]', "line 2: must be a JSON object"),
        ({"question": "Q?", "answer": "A.", "tags": "vat"}, "line 2: tags must be a list"),
        ({"question": "Q?", "answer": "A.", "tags": [""]}, "line 2: tags[0] must not be empty"),
        ({"question": "Q\u0000?", "answer": "A."}, "line 2: question must not contain control"),
        ({"question": "Q?", "answer": "x" * 20_001}, "line 2: answer is 20,001 characters"),
        ({"messages": [{"role": "user", "content": "Q?"}]}, "line 2: messages must be one user"),
        (
            {
                "messages": [
                    {"role": "assistant", "content": "A."},
                    {"role": "user", "content": "Q"},
                ]
            },
            "line 2: messages must be one user",
        ),
        (
            {"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant"}]},
            "line 2: the assistant message's content is missing",
        ),
        (
            {"messages": [{"role": "user", "content": "Q?", "name": "me"}]},
            'line 2: message 1 has an unknown field "name"',
        ),
        ({"messages": "Q? A."}, "line 2: messages must be a list"),
    ],
)
def test_a_bad_line_is_named_with_what_is_wrong_and_nothing_is_imported(bad, message):
    assert refused(lines(GOOD, bad, GOOD)).startswith(message)


def test_invalid_utf8_names_its_line():
    data = lines(GOOD, GOOD) + b'\n{"question": "caf\xe9?", "answer": "A."}'
    assert refused(data) == "line 3: is not valid UTF-8 text"


def test_a_byte_order_mark_is_allowed():
    assert parse_manual_jsonl(b"\xef\xbb\xbf" + lines(GOOD)) == [ManualExample(**GOOD)]


def test_more_examples_than_allowed_are_refused_before_any_is_read():
    data = lines(*[GOOD] * 4, "not json")
    assert "at most 3" in refused(data, max_lines=3)
    assert len(parse_manual_jsonl(lines(*[GOOD] * 3, "", ""), max_lines=3)) == 3


def test_a_file_without_examples_is_refused():
    assert "no examples" in refused(b"\n  \n")
