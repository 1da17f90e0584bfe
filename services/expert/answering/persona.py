"""The expert's system prompt, condensed to fit a small model's context.

Small models have little room, and a persona that crowds out the sources helps nobody, so
the persona is built to a token budget. When the whole profile does not fit, parts are
taken in priority order, each whole if it fits, else shortened (texts cut at a word, lists
keep their first items, as the owner ordered them), and a part never displaces a more
important one:

    identity (name and domain) > tone > don'ts > dos > sentence length > vocabulary
    > goals > description > influences

Drafts put influences before goals and description: there the voice matters most.
The parts are always laid out in the same reading order, whatever was kept.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.expert import Profile
from services.expert.answering.budget import Count, largest, shorten

PRIORITY = (
    "identity",
    "tone",
    "dont",
    "do",
    "sentence_length",
    "vocabulary",
    "goals",
    "description",
    "influences",
)
# A draft keeps the same order, except that influences come before goals and description.
DRAFT_PRIORITY = (*PRIORITY[:6], "influences", "goals", "description")

Parts = dict[str, str | list[str]]


def persona(
    profile: Profile, budget: int, count: Count, *, priority: tuple[str, ...] = PRIORITY
) -> str:
    """The system prompt for `profile`, at most `budget` tokens by `count` ("" if none fit)."""
    full = _parts(profile)
    if budget <= 0:
        return ""

    def fits(parts: Parts) -> bool:
        return count(_render(parts)) <= budget

    if fits(full):
        return _render(full)
    chosen: Parts = {key: type(value)() for key, value in full.items()}
    for key in priority:
        if full[key]:
            chosen[key] = _largest_part(chosen, key, full[key], fits)
    text = _render(chosen)
    return text if count(text) <= budget else ""


def _largest_part(
    chosen: Parts, key: str, value: str | list[str], fits: Callable[[Parts], bool]
) -> str | list[str]:
    """`value` whole if it fits beside what is chosen, else its largest part that does
    (a text cut at a word, a list's first items), else nothing."""
    if fits({**chosen, key: value}):
        return value
    if isinstance(value, list):
        k = largest(1, len(value) - 1, lambda k: fits({**chosen, key: value[:k]}))
        return value[:k] if k is not None else []
    return shorten(value, lambda text: fits({**chosen, key: text})) or ""


def _parts(profile: Profile) -> Parts:
    style = profile.style_guide
    name = profile.name.strip()
    domain = profile.domain.strip()
    identity = f"You are {name}, an expert in {domain}." if domain else f"You are {name}."
    return {
        "identity": identity,
        "description": profile.description.strip(),
        "goals": _clean(profile.goals),
        "tone": (style.tone or "").strip(),
        "sentence_length": (style.sentence_length or "").strip(),
        "vocabulary": (style.vocabulary or "").strip(),
        "do": _clean(style.do),
        "dont": _clean(style.dont),
        "influences": _clean(profile.influences),
    }


def _clean(items: list[str]) -> list[str]:
    return [item.strip() for item in items if item.strip()]


def _render(parts: Parts) -> str:
    blocks = [parts["identity"], parts["description"]]
    blocks.append(_bullets("Your goals:", parts["goals"]))
    style = [
        f"{label}: {parts[key]}"
        for label, key in (
            ("Tone", "tone"),
            ("Sentence length", "sentence_length"),
            ("Vocabulary", "vocabulary"),
        )
        if parts[key]
    ]
    blocks.append("\n".join(style))
    blocks.append(_bullets("Do:", parts["do"]))
    blocks.append(_bullets("Don't:", parts["dont"]))
    if parts["influences"]:
        blocks.append("Influences: " + "; ".join(parts["influences"]) + ".")
    return "\n".join(block for block in blocks if block)


def _bullets(heading: str, items: str | list[str]) -> str:
    return "\n".join([heading, *(f"- {item}" for item in items)]) if items else ""
