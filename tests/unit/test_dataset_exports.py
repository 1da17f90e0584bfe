import hashlib
import json

import msgspec
import pytest

from contracts.answers import Citation
from contracts.dataset import Message, Provenance, TrainingExample
from services.dataset.exports import (
    from_jsonl,
    jsonl,
    render,
    to_alpaca,
    to_chat,
    to_jsonl,
    to_preference,
)

CITATIONS = [
    Citation(n=1, document_id="d1", filename="vat guide.pdf", page=4, chunk_id="c1"),
    Citation(n=2, document_id="d2", filename="rates.pdf", page=12, chunk_id="c9"),
]


def example(n=1, split="train", source="knowledge", **kw):
    return TrainingExample(
        id=f"e{n}",
        messages=[
            Message(role="system", content="You are a VAT expert."),
            Message(role="user", content=f"What is rule {n}? “Quoted” ünïcode"),
            Message(role="assistant", content=f"Rule {n} says so [1]."),
        ],
        source=source,
        split=split,
        **kw,
    )


EXAMPLES = [
    example(1, citations=CITATIONS, provenance=Provenance(document_id="d1", page=4)),
    example(2, split="val", source="feedback", rejected="The old answer.", score=7.25),
    example(3, source="manual", tags=["hand", "written"]),
    example(4, source="traces", rejected="Worse answer.", citations=CITATIONS[:1]),
]


def rows(data: bytes):
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.decode().splitlines()]


@pytest.mark.parametrize("fmt", ["chat", "alpaca", "preference"])
@pytest.mark.parametrize("split", ["train", "val"])
def test_every_format_is_jsonl_that_json_parses(fmt, split):
    data = render(EXAMPLES, fmt, split)
    assert all(isinstance(row, dict) for row in rows(data))


def test_chat_keeps_every_message_in_order():
    assert to_chat(EXAMPLES[0]) == {
        "messages": [
            {"role": "system", "content": "You are a VAT expert."},
            {"role": "user", "content": "What is rule 1? “Quoted” ünïcode"},
            {"role": "assistant", "content": "Rule 1 says so [1]."},
        ]
    }


def test_alpaca_maps_question_context_and_answer():
    assert to_alpaca(EXAMPLES[0]) == {
        "instruction": "What is rule 1? “Quoted” ünïcode",
        "input": "[1] vat guide.pdf, page 4\n[2] rates.pdf, page 12",
        "output": "Rule 1 says so [1].",
    }
    assert to_alpaca(EXAMPLES[2])["input"] == ""


def test_preference_rows_exist_only_where_a_person_replaced_the_answer():
    assert to_preference(EXAMPLES[0]) is None
    assert to_preference(EXAMPLES[1]) == {
        "prompt": "What is rule 2? “Quoted” ünïcode",
        "chosen": "Rule 2 says so [1].",
        "rejected": "The old answer.",
    }
    assert [r["rejected"] for r in rows(render(EXAMPLES, "preference", "train"))] == [
        "Worse answer."
    ]


def test_render_takes_only_the_split_asked_for():
    assert len(rows(render(EXAMPLES, "chat", "train"))) == 3
    assert [r["output"] for r in rows(render(EXAMPLES, "alpaca", "val"))] == ["Rule 2 says so [1]."]


def test_an_empty_selection_renders_as_no_bytes():
    assert render(EXAMPLES[:1], "chat", "val") == b""


@pytest.mark.parametrize(("fmt", "split"), [("sharegpt", "train"), ("chat", "test")])
def test_unknown_formats_and_splits_are_refused_by_name(fmt, split):
    with pytest.raises(ValueError, match="sharegpt|test"):
        render(EXAMPLES, fmt, split)


def test_stored_content_round_trips_byte_for_byte():
    data = to_jsonl(EXAMPLES)
    assert from_jsonl(data) == EXAMPLES
    assert to_jsonl(from_jsonl(data)) == data
    assert len(data.splitlines()) == len(EXAMPLES)


def test_the_same_examples_give_the_same_sha256():
    rebuilt = [msgspec.json.decode(msgspec.json.encode(e), type=TrainingExample) for e in EXAMPLES]
    assert hashlib.sha256(to_jsonl(rebuilt)).digest() == hashlib.sha256(to_jsonl(EXAMPLES)).digest()


def test_stored_content_names_every_field():
    line = json.loads(to_jsonl([example(3)]))
    assert line["rejected"] is None and line["score"] is None and line["citations"] == []
    assert line["split"] in ("train", "val")


def test_stored_content_that_breaks_the_schema_is_refused():
    with pytest.raises(msgspec.ValidationError):
        from_jsonl(b'{"id": "bad id!", "messages": [], "source": "manual"}\n')


def test_jsonl_writes_one_object_a_line():
    assert jsonl([{"a": 1}, {"b": "x\ny"}]) == b'{"a":1}\n{"b":"x\\ny"}\n'
