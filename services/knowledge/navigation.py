"""Whether a passage is a manual's navigation (a contents or index page) rather than content.

A contents page lists every heading with dot leaders and a page number; an index page lists
the manual's vocabulary with page numbers. Both hold the words of many questions, so by
keywords and by meaning they come near the top for questions they cannot answer, and take
the first place or the places that the answering page needed (measured by
`benchmarks/retrieval.py` on the page-labelled manuals of issue 19). The search puts such
passages after every other passage it found.

The test is on the passage's text alone (so it works for documents indexed before it
existed, and for passages that hold a few lines of such a page, cut anywhere): a contents
passage is mostly dot leaders ("2.3 Configuring sources ....... 12"): runs of four or more
dots make at least a quarter of its visible characters; an index passage is mostly lines
that end in a list of page numbers after a term ("retention, 27, 28-29"). A table of
figures does not count: its lines end in numbers, but not after leaders or a comma list.
"""

from __future__ import annotations

import re

_LEADERS = re.compile(r"\.{4,}|(?:\. ){3,}\.|\u2026{2,}")  # dot leaders, or runs of ellipses
# "term, 12" / "term, 12, 14-16, 30": a term then comma-separated page numbers or ranges
_PAGE_LIST = re.compile(
    r"[^\d\s,][^,]*,\s*\d{1,4}(?:[-\u2013]\d{1,4})?(?:,\s*\d{1,4}(?:[-\u2013]\d{1,4})?)*\s*$"
)
LEADER_SHARE = 0.25  # of the passage's visible characters
MIN_LINES = 3  # fewer page-list lines than this is not an index
MIN_SHARE = 0.5  # of its non-empty lines


def is_navigation(text: str) -> bool:
    """True when `text` reads as part of a contents page or an index. Runs on every passage
    a search considers, so it sticks to str methods and two precompiled patterns."""
    if _has_leaders(text):
        visible = len(text) - text.count(" ") - text.count("\n") - text.count("\t")
        leaders = sum(len(m.group()) for m in _LEADERS.finditer(text))
        if leaders >= LEADER_SHARE * visible:
            return True
    if text.count(",") < MIN_LINES:
        return False
    lines = [line for line in text.splitlines() if line.strip()]
    listed = sum(1 for line in lines if _PAGE_LIST.match(line.strip()))
    return listed >= MIN_LINES and listed >= MIN_SHARE * len(lines)


def _has_leaders(text: str) -> bool:
    return "...." in text or ". . . ." in text or "\u2026\u2026" in text
