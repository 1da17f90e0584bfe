"""Value questions: does the answer state the expected number or short exact value?

Numbers. Models wrap a value in prose and format it their own way, so a reference that is a
number (an integer, a decimal, a fraction like 3/4, a percentage, 1,000 or 1.5e3) is compared
as a number, never as text: "3/4", "0.75" and "75%" agree, as do "1,000" and "1000".

Which number of the answer counts, first match wins:

1. the first number after the last explicit marker: "answer is", "answer:", "answer =",
   or LaTeX's \\boxed{...};
2. else the last number that directly follows "=", "≈", "is", "was", "be", "equals" or
   "gives" (optionally "about", "approximately", … and a currency sign), so working that
   ends in "x = 12" counts 12, and "the next number is 42 (differences 4, 6, 8)" counts 42
   ("are" is left out: it tends to open a list, as in "the differences are 4, 6, 8");
3. else the last number in the answer.

Digits inside words (H2O, x2), exponents (m/s^2), times and ratios (3:00) are not numbers.
Numbers written as words are not read.

Tolerance. Two values agree within a relative 1e-6. A reference written as a decimal with d
places is a rounded value: an answer agrees when it rounds to it (within half a unit of the
d-th place). An answer written with d ≥ 2 decimal places is accepted as a rounding of the
reference in the same way (0.33 or 0.333 for 1/3), but one decimal place is not (0.3 is not
1/3). A percentage also reads as its bare number, so "25%" agrees with 0.25 and with 25.

Other values (O(log n), Na, 17:15, yes) match as normalized text (case, punctuation and
articles ignored): the answer's marked part (after "answer is", up to the sentence's end),
or else the whole answer, must be the reference or contain it as whole words.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from services.benchmark.scoring.text import Scored, normalize

_NUMBER = re.compile(
    r"(?<![\w.^:/])"  # not inside a word, a decimal, an exponent, a time or a fraction
    r"(?P<sign>[-−])?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<exp>[eE][-+]?\d+)?"
    r"(?:\s*/\s*(?P<den>\d+))?"
    r"(?P<percent>\s*(?:%|percent\b))?"
    r"(?![\w:]|\.\d)",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\banswer\s*(?:is|:|=|would be|will be)|\\boxed\{", re.IGNORECASE)
_FOLLOWS = re.compile(
    r"(?:=|≈|\b(?:is|was|be|equals|gives)\b)\s*"
    r"(?:(?:about|approximately|roughly|around|exactly|just)\s+)?[$€£]?\s*$",
    re.IGNORECASE,
)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LATEX_FRACTION = re.compile(r"\\d?frac\{([^{}]*)\}\{([^{}]*)\}")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")


class Number(NamedTuple):
    """A number as written: its value, its decimal places (None when exact) and whether it
    was a percentage."""

    text: str
    value: float
    places: int | None
    percent: bool

    def readings(self) -> list[tuple[float, int | None]]:
        """The values it may mean, each with the decimal places it was given to."""
        if not self.percent:
            return [(self.value, self.places)]
        return [
            (self.value / 100, None if self.places is None else self.places + 2),
            (self.value, self.places),
        ]


def _clean(text: str) -> str:
    """Markdown bold and LaTeX fractions as plain text, so "**3/4**" and "\\frac{3}{4}" read."""
    return _LATEX_FRACTION.sub(r"\1/\2", _BOLD.sub(r"\1", text))


def _number(match: re.Match[str]) -> Number | None:
    digits = match["digits"].replace(",", "")
    value = float(digits + (match["exp"] or ""))
    places = len(digits.split(".")[1]) if "." in digits and not match["exp"] else None
    if match["den"] is not None:
        if int(match["den"]) == 0:
            return None
        value, places = value / int(match["den"]), None
    if match["sign"]:
        value = -value
    return Number(match[0].strip(), value, places, bool(match["percent"]))


def numbers(text: str) -> list[tuple[int, Number]]:
    """Every number in the text with where it starts."""
    found = ((m.start(), _number(m)) for m in _NUMBER.finditer(text))
    return [(start, n) for start, n in found if n is not None]


def as_number(text: str) -> Number | None:
    """The text read as one number, when that is all it is ("3/4", "1,000", "12.5%")."""
    match = _NUMBER.fullmatch(_clean(text).strip())
    return None if match is None else _number(match)


def final_number(answer: str) -> Number | None:
    """The number the answer gives as its result (the rules in the module's docstring)."""
    text = _clean(answer)
    found = numbers(text)
    markers = list(_MARKER.finditer(text))
    if markers:
        after = [n for start, n in found if start >= markers[-1].end()]
        if after:
            return after[0]
    stated = [n for start, n in found if _FOLLOWS.search(text[max(0, start - 40) : start])]
    if stated:
        return stated[-1]
    return found[-1][1] if found else None


def agree(answer: Number, reference: Number) -> bool:
    """The two numbers are the same value, allowing for the rounding either was written with."""
    for a, a_places in answer.readings():
        for r, r_places in reference.readings():
            tolerance = max(1e-6 * max(abs(a), abs(r)), 1e-12)
            if r_places is not None:
                tolerance = max(tolerance, 0.5 * 10**-r_places)
            if a_places is not None and a_places >= 2:
                tolerance = max(tolerance, 0.5 * 10**-a_places)
            if abs(a - r) <= tolerance * (1 + 1e-9):
                return True
    return False


def _marked_part(answer: str) -> str:
    """The sentence after the last "answer is", or the whole answer when none is marked."""
    markers = list(_MARKER.finditer(answer))
    if not markers:
        return answer
    rest = answer[markers[-1].end() :]
    end = _SENTENCE_END.search(rest)
    return rest[: end.start()] if end else rest


def score_value(answer: str, reference: str) -> Scored:
    """1.0 when the answer states the reference value, else 0.0, with the reason."""
    expected = as_number(reference)
    if expected is None:
        return _score_exact(answer, reference)
    given = final_number(answer)
    if given is None:
        return 0.0, {"numeric": 0.0}, [f"no number found in the answer; expected {reference}"]
    if agree(given, expected):
        return 1.0, {"numeric": 1.0}, [f"the answer's value {given.text} matches {reference}"]
    reason = f"the answer's value {given.text} does not match {reference}"
    if any(agree(n, expected) for _, n in numbers(_clean(answer))):
        reason += "; the expected value appears in the answer, but not as its result"
    return 0.0, {"numeric": 0.0}, [reason]


def _score_exact(answer: str, reference: str) -> Scored:
    expected, said = normalize(reference), normalize(_marked_part(answer))
    if said == expected:
        return 1.0, {"exact": 1.0}, [f"the answer is exactly {reference}"]
    if expected and f" {expected} " in f" {said} ":
        return 1.0, {"exact": 1.0}, [f"the answer states {reference}"]
    return 0.0, {"exact": 0.0}, [f"the answer does not state {reference}"]
