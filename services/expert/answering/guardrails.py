"""Rules the owner sets around answers: topics the expert declines, phrases it must not use,
and how long an answer may be.

Banned topics match case-insensitively as whole words or phrases ("tax" matches "Tax?" but
not "taxi"), with the last word in singular or plural ("stock" and "stocks", "policy" and
"policies"), and any spacing between the words of a phrase.

The style guide's don'ts are free text; only the phrases they quote can be checked
mechanically: `Don't say "basically"`, `avoid 'in conclusion'`, `never “as an AI”`. An
apostrophe inside a word (the one in "Don't") is not a quote.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<!\w)'([^']+)'(?!\w)")


def refusal_for(question: str, banned_topics: list[str]) -> str | None:
    """Why the expert will not answer `question`, if it touches a banned topic (the first
    that matches, in the owner's order); None if it touches none."""
    for topic in banned_topics:
        words = topic.split()
        if words and _phrase(words, plural=True).search(question):
            return (
                f"I won't answer questions about {' '.join(words)}: "
                "it is a topic this expert has been asked to stay away from."
            )
    return None


def output_violations(answer: str, dont: list[str]) -> list[str]:
    """The phrases quoted in the don't list that appear in `answer`, each once, in the
    order the list quotes them."""
    text = _straight(answer)
    found: list[str] = []
    for rule in dont:
        for match in _QUOTED.finditer(rule):
            phrase = next(group for group in match.groups() if group is not None).strip()
            words = _straight(phrase).split()
            if words and phrase not in found and _phrase(words, plural=False).search(text):
                found.append(phrase)
    return found


def clamp_max_tokens(requested: int | None, limit: int, default: int) -> int:
    """The answer length to generate: what was asked for (or `default`), at least 1 and
    at most `limit`."""
    if limit < 1:
        raise ValueError(f"The answer token limit must be at least 1, not {limit}.")
    wanted = default if requested is None else requested
    return max(1, min(wanted, limit))


def _phrase(words: list[str], *, plural: bool) -> re.Pattern[str]:
    """Whole words in order, any whitespace between them; word boundaries are required
    only where the phrase begins or ends with a word character."""
    parts = [re.escape(word) for word in words]
    if plural:
        parts[-1] = "(?:" + "|".join(re.escape(form) for form in _forms(words[-1])) + ")"
    head = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return re.compile(head + r"\s+".join(parts) + tail, re.IGNORECASE)


def _forms(word: str) -> set[str]:
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


def _straight(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")
