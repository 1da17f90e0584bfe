"""Finding a phrase a person wrote (a banned topic, a quoted "don't") in a text: whole words
in order, any case, any spacing between the words, optionally the last word in its simple
singular or plural form ("policy" and "policies"). Shared by every service that applies an
expert's banned topics (answers, training data)."""

from __future__ import annotations

import re


def phrase_pattern(phrase: str, *, plural: bool = True) -> re.Pattern[str] | None:
    """The pattern for `phrase` (None for a blank one). Word boundaries are required only
    where the phrase begins or ends with a word character."""
    words = phrase.split()
    if not words:
        return None
    parts = [re.escape(word) for word in words]
    if plural:
        parts[-1] = "(?:" + "|".join(map(re.escape, sorted(word_forms(words[-1])))) + ")"
    head = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return re.compile(head + r"\s+".join(parts) + tail, re.IGNORECASE)


def word_forms(word: str) -> set[str]:
    """The word and its simple singular/plural partners."""
    lower = word.lower()
    forms = {lower, lower + "s", lower + "es"}
    if lower.endswith("ies"):
        forms.add(lower[:-3] + "y")
    elif lower.endswith("es"):
        forms.update({lower[:-2], lower[:-1]})
    elif lower.endswith("s"):
        forms.add(lower[:-1])
    if lower.endswith("y"):
        forms.add(lower[:-1] + "ies")
    return {form for form in forms if form}
