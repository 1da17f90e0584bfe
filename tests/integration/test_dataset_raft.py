"""A dataset built from a manual (front matter, a contents page, a licence, chapters, an index)
through the real build: its examples from the documents are RAFT-shaped, as the live answer
prompt is — the question among numbered passages, the answer citing the one it comes from,
some answered that the sources do not cover it — and none comes from a page that teaches
nothing (issue 19, item 3): a small manual of its own, and the 40-page `manual_set` one with
its licence, two contents pages and a two-page index."""

from __future__ import annotations

import re

import pytest

from contracts.prompting import NOT_COVERED, RAG_RULES, question_in
from tests.integration.test_datasets import build, examples
from tests.support.api import new_expert, settled, upload
from tests.support.manual_set import MANUAL
from tests.support.pdfs import make_pdf
from tests.support.raft_manual import PAGES, TEACHING_PAGES

pytestmark = pytest.mark.integration

LABEL = re.compile(r"^\[(\d+)\] \(manual\.pdf, page (\d+)\)$", re.MULTILINE)


def passages_of(user: str) -> dict[int, tuple[int, str]]:
    """The numbered passages of a user message: {n: (page, text)}."""
    labels = list(LABEL.finditer(user))
    end = user.rindex("\n\nQuestion: ")
    found = {}
    for label, following in zip(labels, [*labels[1:], None], strict=True):
        text = user[label.end() : following.start() if following else end]
        found[int(label.group(1))] = (int(label.group(2)), " ".join(text.split()))
    return found


async def test_a_manual_becomes_raft_examples_that_cite_the_passage_they_come_from(api):
    expert = await new_expert(api, domain="Velmora's harbour tools")
    [doc] = (await upload(api, expert["id"], ("manual.pdf", make_pdf(PAGES)))).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"

    offline = {"knowledge": {"questions": 40, "generator": "offline"}}
    view = await build(api, expert["id"], sources=offline, seed=11)
    assert view["status"] == "ready", view
    found = await examples(api, view["id"])
    assert len(found) >= 12, [e["messages"][1]["content"][-80:] for e in found]

    missing = []
    for example in found:
        system, user, assistant = (m["content"] for m in example["messages"])
        assert system.endswith(RAG_RULES)
        assert user.startswith("Sources:\n\n[1] (manual.pdf, page ")
        question = question_in(user)
        assert question.endswith("?") and "\n" not in question and "say about" not in question
        shown = passages_of(user)
        assert 2 <= len(shown) <= 5 and sorted(shown) == list(range(1, len(shown) + 1))
        assert {page for page, _ in shown.values()} <= TEACHING_PAGES  # no contents, licence…
        assert example["provenance"]["page"] in TEACHING_PAGES
        if assistant == NOT_COVERED:
            missing.append(example)
            assert example["citations"] == []
            continue
        [citation] = example["citations"]
        n = citation["n"]
        assert assistant.endswith(f" [{n}]") and re.findall(r"\[(\d+)\]", assistant) == [str(n)]
        page, text = shown[n]
        assert page == citation["page"] == example["provenance"]["page"]
        assert assistant.removesuffix(f" [{n}]") in text  # the answer is that passage's words
    assert 1 <= len(missing) <= len(found) // 4, len(missing)
    cited = {e["citations"][0]["n"] for e in found if e["citations"]}
    assert len(cited) >= 2, cited  # the passage that answers is not always [1]


async def test_a_real_sized_manual_gives_no_example_from_its_front_matter_contents_or_index(api):
    expert = await new_expert(api, domain="tallyctl")
    pdf = (MANUAL.filename, MANUAL.build())
    [doc] = (await upload(api, expert["id"], pdf)).json()["documents"]
    assert (await settled(api, doc["id"], timeout=180))["status"] == "ready"
    skipped = {
        n
        for n, text in enumerate(MANUAL.page_texts, start=1)
        if text.startswith(("Contents", "Index")) or "Copyright" in text
    }
    assert len(skipped) >= 4  # the licence, two contents pages and two index pages

    offline = {"knowledge": {"questions": 60, "generator": "offline"}}
    view = await build(api, expert["id"], sources=offline, seed=2)
    found = await examples(api, view["id"])
    assert len(found) >= 30, len(found)
    label = re.compile(rf"^\[(\d+)\] \({re.escape(MANUAL.filename)}, page (\d+)\)$", re.M)
    for example in found:
        user, assistant = example["messages"][1]["content"], example["messages"][2]["content"]
        shown = {int(n): int(page) for n, page in label.findall(user)}
        assert 2 <= len(shown) <= 5 and not set(shown.values()) & skipped
        assert example["provenance"]["page"] not in skipped
        assert "say about" not in question_in(user)
        assert not re.search(r"\.\s?\.\s?\.\s?\.|\b\d+\.\d+\.\d+\s+\d+\.\d+", assistant)
        for citation in example["citations"]:
            assert shown[citation["n"]] == citation["page"]
    assert any(e["messages"][2]["content"] == NOT_COVERED for e in found)
