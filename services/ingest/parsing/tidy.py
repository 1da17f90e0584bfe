"""The clean-up of text read from a PDF: words hyphenated across line ends are joined (PDFium
marks those hyphens), whitespace runs are collapsed, ligatures such as "\ufb01" are expanded,
control characters dropped."""

from __future__ import annotations

import re

from contracts.rules import clean_text

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
MARKED_HYPHEN = re.compile(r"\x02\s*")  # PDFium's mark for a hyphen at a line end
_LINE_END_HYPHEN = re.compile(r"(\w)-\n(\w)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\xad\ufffe\uffff]")
_SPACES = re.compile(r"[^\S\n]+")


def _join_hyphenated(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    if before.isalpha() and after.islower():
        return before + after
    return match.group(0)


def tidy_pdf_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LIGATURES)
    text = MARKED_HYPHEN.sub("", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    text = _LINE_END_HYPHEN.sub(_join_hyphenated, text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return clean_text(text).strip()
