"""Contents and index pages are told from content pages by their text alone."""

from __future__ import annotations

import pytest

from services.ingest.chunking import chunk_pages
from services.ingest.parsing import parse_document
from services.knowledge.navigation import is_navigation
from tests.support.manual_set import MANUAL, MANUALS

CONTENTS = """Contents
1 Introduction ........................................ 5
1.1 What the tool does ................................ 5
1.2 Core concepts . . . . . . . . . . . . . . . . . . . 6
2 Installing .......................................... 7
2.1 System requirements ............................... 7"""

INDEX = """Index
aggregate, 18, 19
batch_rows, 9, 31
cache, 6
retention, 27-29, 30
schedule, 22, 36"""

FIGURES = """The table lists the measured throughput per machine.
Machine A 1200
Machine B 1350
Machine C 990
Machine D 1410
Throughput grows with the number of cores, up to 16."""

PROSE = """To upgrade, install the new version over the old one, as described on page 9.
Settings are read from the file named in section 3.1, see also 3.2, 3.4.
The daemon skips a run when the previous one is still going, 2 times at most."""


def test_a_contents_page_with_dot_leaders_is_navigation():
    assert is_navigation(CONTENTS)


def test_an_index_page_with_page_lists_is_navigation():
    assert is_navigation(INDEX)


def test_a_table_of_figures_and_prose_that_cites_pages_are_content():
    assert not is_navigation(FIGURES)
    assert not is_navigation(PROSE)
    assert not is_navigation("")


def test_a_few_lines_cut_from_the_middle_of_a_contents_page_are_navigation():
    # a small chunk starts with the page number that ended the previous chunk's last line
    assert is_navigation("5\n1.2 Core concepts ........................................ 5\n1.3 How")


@pytest.mark.parametrize("size,overlap", [(250, 40), (400, 60), (1000, 150)])
def test_in_the_manuals_every_contents_and_index_passage_and_no_other_is_navigation(size, overlap):
    for manual in MANUALS:
        pages = parse_document(manual.build(), "application/pdf", max_pages=100)
        chunks = chunk_pages(pages, size=size, overlap=overlap)
        navigation = {
            n
            for n, text in enumerate(manual.page_texts, start=1)
            if text.startswith(("Contents", "Index"))
        }
        navigation -= {40} if manual is MANUAL else set()  # two index lines under the header
        flagged = {(c.page, c.text) for c in chunks if is_navigation(c.text)}
        expected = {(c.page, c.text) for c in chunks if c.page in navigation}
        assert flagged == expected, manual.filename
        assert expected
