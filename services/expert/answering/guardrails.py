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

from runtime.phrases import phrase_pattern

_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<!\w)'([^']+)'(?!\w)")


def refusal_for(question: str, banned_topics: list[str]) -> str | None:
    """Why the expert will not answer `question`, if it touches a banned topic (the first
    that matches, in the owner's order); None if it touches none."""
    for topic in banned_topics:
        pattern = phrase_pattern(topic)
        if pattern is not None and pattern.search(question):
            return (
                f"I won't answer questions about {' '.join(topic.split())}: "
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
            pattern = phrase_pattern(_straight(phrase), plural=False)
            if pattern is not None and phrase not in found and pattern.search(text):
                found.append(phrase)
    return found


def clamp_max_tokens(requested: int | None, limit: int, default: int) -> int:
    """The answer length to generate: what was asked for (or `default`), at least 1 and
    at most `limit`."""
    if limit < 1:
        raise ValueError(f"The answer token limit must be at least 1, not {limit}.")
    wanted = default if requested is None else requested
    return max(1, min(wanted, limit))


def _straight(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")
