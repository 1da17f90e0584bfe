"""Retrieval puts the page that answers a question first (issue 19, item 5).

The tallyctl guide of `tests.support.manual_set` (40 pages: title, licence, two contents
pages, 34 pages of chapters, two index pages) goes through the real ingest and knowledge
services, and its 50 labelled questions through `qry.knowledge.search` with k=6, as the
expert service asks. `benchmarks/retrieval.py` measures the same with every miss listed.
"""

from __future__ import annotations

import pytest

from services.knowledge.search import keyword_ranking
from tests.support import pdfs
from tests.support.flows import create_expert, search, upload, wait_settled
from tests.support.manual_set import MANUAL

pytestmark = pytest.mark.integration

# Measured with the tests' chunk size (400 characters, tests/conftest.py) and the torch
# embedder: 43 of the 50 answered questions get their page first; the search as it was
# before issue 19 item 5 (commit 649d08e) got 41. One question of room for an embedder route
# whose vectors differ slightly (int8 ONNX). benchmarks/retrieval.py measures the product's
# default chunk size (1,000): 39 now, 36 before.
FIRST_AT_LEAST = 42
NAVIGATION_PAGES = {3, 4, 39}  # contents, index (its short last page, 40, reads as content)


@pytest.fixture(scope="module")
async def manual_expert(services, nc):
    expert = await create_expert(nc)
    reg = await upload(nc, expert, MANUAL.filename, MANUAL.build(), "application/pdf")
    status, doc = await wait_settled(nc, reg.document.id)
    assert status == "ready" and doc.pages == len(MANUAL.page_texts)
    return expert


async def test_the_answer_page_comes_first_for_the_manual_questions(manual_expert, nc):
    answered = [q for q in MANUAL.questions if q.page is not None]
    first = []
    for q in answered:
        hits = (await search(nc, manual_expert, q.question, k=6)).results
        first.append(hits[0].page == q.page)
    assert len(answered) == 50
    assert sum(first) >= FIRST_AT_LEAST, f"{sum(first)} of {len(answered)} first"


async def test_contents_and_index_pages_come_after_every_content_page(manual_expert, nc):
    for q in MANUAL.questions:
        pages = [h.page for h in (await search(nc, manual_expert, q.question, k=6)).results]
        navigation = [n for n, page in enumerate(pages) if page in NAVIGATION_PAGES]
        content = [n for n, page in enumerate(pages) if page not in NAVIGATION_PAGES]
        assert not navigation or not content or min(navigation) > max(content), (q, pages)


async def test_a_rare_word_of_the_question_outweighs_its_common_words(services, nc):
    """Seven pages say "gizmotron" and "settings" twice; one page says "quorvex" once. Asked
    for all three, the keyword ranking puts the quorvex page first: a word every page holds
    tells the pages apart less than the one word only one page holds."""
    common = (
        "The gizmotron settings page lists the settings of the gizmotron tool and how the "
        "defaults were chosen for typical workloads."
    )
    pages = [f"{common} Section {n} covers topic number {n}." for n in range(1, 9)]
    pages[4] = "Calibration of the flux chamber needs a quorvex, fitted before first use."
    expert = await create_expert(nc)
    reg = await upload(nc, expert, "gizmo.pdf", pdfs.make_pdf(pages), "application/pdf")
    assert (await wait_settled(nc, reg.document.id))[0] == "ready"
    async with services["knowledge"].engine.connect() as conn:
        ranked = await keyword_ranking(conn, "local", expert, "gizmotron settings quorvex", 20)
    assert ranked[0].page == 5
    assert len(ranked) == 8  # every page holding any of the words is still found
