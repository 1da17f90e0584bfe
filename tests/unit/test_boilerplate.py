"""Contents, index, licence and front-matter text is told from text that teaches, so no
question is asked about it (issue 19: an adapter trained on contents lines recites them)."""

import pytest

from services.dataset.boilerplate import boilerplate, boilerplate_sentence
from tests.support.raft_manual import CHAPTERS, CONTENTS, FRONT, INDEX, LICENCE

R_CONTENTS = """Table of Contents
Preface . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . 1
1 Introduction and preliminaries . . . . . . . . . . . . . . . . . 2
1.1 The R environment . . . . . . . . . . . . . . . . . . . . . . . . . . 2
1.2 Related software and documentation . . . . . . . . . . . . . 2"""
SECTION_RUN = "Appendix 1.5.1 1.5.2 1.5.3 1.6 1.7 1.7.1 1.7.2 2.1 2.2 2.3 2.4 of the guide"
PAGE_RUNS = "tides 3 4 5 9 12 14 17 19 22 25 30 31 moorings 40 41 42"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (CONTENTS, "contents"),
        (R_CONTENTS, "contents"),
        (SECTION_RUN, "contents"),
        (INDEX, "index"),
        (PAGE_RUNS, "index"),
        (LICENCE, "licence"),
        (FRONT, "front matter"),
        ("This manual is for R, version 4.2.2 (2022-10-31).\nIt is a guide.", "front matter"),
    ],
)
def test_boilerplate_passages_are_named_by_kind(text, kind):
    assert boilerplate(text) == kind


@pytest.mark.parametrize("text", CHAPTERS)
def test_teaching_passages_are_not_boilerplate(text):
    assert boilerplate(text) is None


def test_a_chapter_that_mentions_a_year_or_a_number_is_not_an_index():
    text = (
        "The Quillmark light flashes green every 4 seconds and can be seen from 12\n"
        "nautical miles. It was built in 1887 by the harbour board of Velmora, and the\n"
        "lamp was replaced in 1954 and again in 2001."
    )
    assert boilerplate(text) is None


@pytest.mark.parametrize(
    "sentence",
    [
        "This manual is for R, version 4.2.2 (2022-10-31).",
        "Copyright (C) 2026 The Velmora Harbour Board.",
        "Permission is granted to make and distribute verbatim copies of this manual.",
        "1 Introduction and preliminaries . . . . . . . . . 1",
        "See sections 1.5.1 1.5.2 and 1.5.3 for the options.",
    ],
)
def test_boilerplate_sentences_are_told(sentence):
    assert boilerplate_sentence(sentence)


def test_a_plain_sentence_is_not_boilerplate():
    assert not boilerplate_sentence("A mooring is a permanent anchor on the sea bed.")
    assert not boilerplate_sentence("Section 2.1 explains how to book a berth.")
