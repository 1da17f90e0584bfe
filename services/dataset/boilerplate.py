"""Pages and sentences of a manual that teach nothing a person would ask about: contents and
index pages, licence and copyright text, and the front matter that says which edition the
manual is for.

A model trained on questions answered from these learns to recite them: answers that end in
runs of section numbers ("1.5.1 1.5.2 …") or dot leaders. So the dataset's question writers
ask nothing about such a passage, use none as a distractor, and take no answer from such a
sentence.

A passage is judged by its lines and words, as text extraction leaves a PDF page:

- contents: lines that end in a page number after dot leaders ("Introduction . . . . 3") or
  numbered headings with a page number ("1.2 Getting started 7"), or a run of section
  numbers ("1.5.1 1.5.2 1.5.3") among the words;
- index: entries that end in page numbers ("tides, 12, 45"), or words that are mostly bare
  numbers;
- licence: copyright notices, permission grants, warranty disclaimers, licence names;
- front matter: "This manual is for …", "This is edition …", an ISBN.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["contents", "index", "licence", "front matter"]

LISTING_SHARE = 0.3  # of a passage's lines: more than this are contents or index entries
SECTION_SHARE = 0.15  # of its words: more than this are section numbers ("1.5.1")
NUMBER_SHARE = 0.3  # of its words: more than this are bare numbers (page-number runs)
LICENCE_HITS = 2  # licence phrases in a passage that make it a licence page

_DOT_LEADER = re.compile(r"(?:\.\s*){4,}\s*\d+\s*$|(?:\s\.){3,}|\.{4,}|…{2,}")
_HEADING_WITH_PAGE = re.compile(
    r"^(?:\d+(?:\.\d+)*|[A-Z]\.\d+(?:\.\d+)*|Appendix\s+\S+)\s+\S.*\s\d{1,4}$"
)
_INDEX_ENTRY = re.compile(r"^\S.{0,60}?,?\s+\d{1,4}(?:\s*[,–-]\s*\d{1,4})*$")
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+)+\.?$")
_NUMBER = re.compile(r"^[\divxlc]+[.,]?$", re.IGNORECASE)
_TITLE = re.compile(r"^\s*(?:table\s+of\s+)?contents\s*$|^\s*(?:general\s+)?index\s*$", re.I | re.M)
_LICENCE = re.compile(
    r"copyright|©|\(c\)\s*\d{4}|all rights reserved|permission is granted|licen[cs]e[ds]?\b"
    r"|without any warranty|without warranty|merchantability|fitness for a particular purpose"
    r"|free software foundation|gnu (?:general|free|lesser)|creative commons|verbatim cop"
    r"|trademarks? of|registered trademark",
    re.IGNORECASE,
)
_FRONT_MATTER = re.compile(
    r"^this (?:manual|document|guide|book|edition|handbook) (?:is for|documents|describes "
    r"version|corresponds)|^this is (?:edition|version|the \S+ edition)|\bISBN\b"
    r"|^(?:first|second|third|\d+(?:st|nd|rd|th)) (?:edition|printing)\b"
    r"|^published by\b|^printed in\b",
    re.IGNORECASE,
)


def boilerplate(text: str) -> Kind | None:
    """What kind of boilerplate the passage is, or None when it teaches something."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    words = text.split()
    if not lines or not words:
        return None
    dotted = sum(1 for line in lines if _DOT_LEADER.search(line))
    headed = sum(1 for line in lines if _HEADING_WITH_PAGE.match(line))
    entries = sum(1 for line in lines if _INDEX_ENTRY.match(line))
    sections = sum(1 for w in words if _SECTION_NUMBER.match(w))
    numbers = sum(1 for w in words if _NUMBER.match(w))
    titled = _TITLE.search(text)
    if (dotted + headed) > LISTING_SHARE * len(lines) or sections > SECTION_SHARE * len(words):
        return "contents"
    if titled and dotted + headed + entries >= 2:
        return "index" if re.search(r"(?i)index", titled.group()) else "contents"
    if entries > LISTING_SHARE * len(lines) and len(lines) >= 3:
        return "index"
    if numbers > NUMBER_SHARE * len(words):
        return "index"
    if len(_LICENCE.findall(text)) >= LICENCE_HITS:
        return "licence"
    if any(_FRONT_MATTER.search(line) for line in lines[:3]):
        return "front matter"
    return None


def boilerplate_sentence(sentence: str) -> bool:
    """Whether a sentence is licence text or front matter (never an answer), or a contents
    line that `sentences.py` read as a sentence."""
    return bool(
        _LICENCE.search(sentence)
        or _FRONT_MATTER.search(sentence.strip())
        or _DOT_LEADER.search(sentence)
        or sum(1 for w in sentence.split() if _SECTION_NUMBER.match(w)) >= 2
    )
