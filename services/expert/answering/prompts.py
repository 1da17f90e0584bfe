"""Chat prompts for each way the expert answers, each fitted to the model's context.

Every builder reserves `answer_tokens` of `context_tokens` for the reply and fills the rest
in order of what the answer cannot do without:

1. the instructions and the question (never shortened: if they alone do not fit, the
   builder raises `PromptTooLong` rather than answer a question it was not asked);
2. the method of the template applied to the expert (`method`, its Markdown body), cut at a
   word if need be to at most a third of the room, between the persona and the rules;
3. the persona, condensed (see `persona`) to at most a share of the room: a third next to
   sources or examples, half for drafts, all that is left for closed-book answers;
4. sources (best first; the first that does not fit whole is cut at a word if a useful
   part fits, and it and everything after it go) or past examples (best first, whole pairs
   only; one too long is skipped and the next tried).

Sizes are measured with the caller's `count` on the finished messages (see `budget`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from contracts.expert import Profile
from contracts.prompting import RAG_RULES, sources_message
from services.expert.answering.budget import (
    Count,
    Message,
    PromptTooLong,
    message,
    prompt_tokens,
    shorten,
)
from services.expert.answering.persona import DRAFT_PRIORITY, PRIORITY, persona
from services.expert.answering.sources import Source

__all__ = [
    "PromptTooLong",
    "closed_messages",
    "draft_messages",
    "draft_prompt",
    "few_shot_messages",
    "persona",
    "prompt_tokens",
    "rag_messages",
]

PERSONA_SHARE = 1 / 3
METHOD_SHARE = 1 / 3  # of the room, at most, for an applied template's method
METHOD_HEADING = "Your method:"
DRAFT_PERSONA_SHARE = 1 / 2
MIN_PASSAGE_WORDS = 12

FEW_SHOT_RULES = "Answer new questions the way you answered the earlier ones."
DRAFT_RULES = (
    "Write what the user asks for in your own voice. Follow your style closely: its tone, "
    "vocabulary and sentence length, and every do and don't."
)
DRAFT_SOURCE_RULES = (
    " Draw on the numbered sources where they help, and cite them as [1] or [2] right after "
    "the claim they support."
)


def closed_rules(profile: Profile) -> str:
    field = profile.domain.strip() or "your field"
    return (
        f"Answer from your general knowledge of {field}. Do not cite sources. "
        "If you do not know, say so plainly."
    )


def rag_messages(
    profile: Profile,
    question: str,
    sources: list[Source],
    *,
    context_tokens: int,
    answer_tokens: int,
    count: Count,
    method: str = "",
) -> tuple[list[Message], list[Source]]:
    """Answer from the numbered sources; returns the messages and the sources they carry,
    renumbered 1..k (a shortened passage is returned as the model saw it)."""
    room = context_tokens - answer_tokens
    return _with_sources(
        profile,
        RAG_RULES,
        question,
        sources,
        room=room,
        count=count,
        share=PERSONA_SHARE,
        method=method,
    )


def closed_messages(
    profile: Profile,
    question: str,
    *,
    context_tokens: int,
    answer_tokens: int,
    count: Count,
    method: str = "",
) -> list[Message]:
    """Answer from the expert's general knowledge, without sources or citations."""
    room = context_tokens - answer_tokens
    return _alone(profile, closed_rules(profile), question, room=room, count=count, method=method)


def few_shot_messages(
    profile: Profile,
    question: str,
    examples: list[tuple[str, str]],
    *,
    context_tokens: int,
    answer_tokens: int,
    count: Count,
    method: str = "",
) -> list[Message]:
    """Answer with the expert's best-rated past answers (best first) as earlier turns."""
    room = context_tokens - answer_tokens

    def build(system: str, shown: Sequence[tuple[str, str]]) -> list[Message]:
        turns = [m for q, a in shown for m in (message("user", q), message("assistant", a))]
        return [message("system", system), *turns, message("user", question)]

    system = _system(
        profile,
        FEW_SHOT_RULES,
        lambda s: build(s, []),
        room=room,
        count=count,
        share=PERSONA_SHARE,
        method=method,
    )
    shown: list[tuple[str, str]] = []
    for example in examples:
        if prompt_tokens(build(system, [*shown, example]), count) <= room:
            shown.append(example)
    return build(system, shown)


def draft_messages(
    profile: Profile,
    prompt: str,
    *,
    context_tokens: int,
    answer_tokens: int,
    count: Count,
    sources: list[Source] = [],  # noqa: B006 - never mutated; the signature others call
    method: str = "",
) -> list[Message]:
    """A piece of writing in the expert's voice; sources, if given, are cited like answers."""
    messages, _ = draft_prompt(
        profile,
        prompt,
        context_tokens=context_tokens,
        answer_tokens=answer_tokens,
        count=count,
        sources=sources,
        method=method,
    )
    return messages


def draft_prompt(
    profile: Profile,
    prompt: str,
    *,
    context_tokens: int,
    answer_tokens: int,
    count: Count,
    sources: Sequence[Source] = (),
    method: str = "",
) -> tuple[list[Message], list[Source]]:
    """`draft_messages` and the sources the draft was actually given, renumbered 1..k, to
    check its citations against (as `rag_messages` returns them)."""
    room = context_tokens - answer_tokens
    if not sources:
        alone = _alone(
            profile, DRAFT_RULES, prompt,
            room=room, count=count, priority=DRAFT_PRIORITY, method=method,
        )  # fmt: skip
        return alone, []
    return _with_sources(
        profile,
        DRAFT_RULES + DRAFT_SOURCE_RULES,
        prompt,
        sources,
        room=room,
        count=count,
        share=DRAFT_PERSONA_SHARE,
        priority=DRAFT_PRIORITY,
        ask="Write this",
        method=method,
    )


def _alone(
    profile: Profile,
    rules: str,
    text: str,
    *,
    room: int,
    count: Count,
    priority: tuple[str, ...] = PRIORITY,
    method: str = "",
) -> list[Message]:
    """The system prompt and `text` as the one user turn: nothing else shares the room, so
    the persona may take all of it."""

    def build(system: str) -> list[Message]:
        return [message("system", system), message("user", text)]

    system = _system(
        profile, rules, build, room=room, count=count, share=1.0, priority=priority, method=method
    )
    return build(system)


def _with_sources(
    profile: Profile,
    rules: str,
    question: str,
    sources: Sequence[Source],
    *,
    room: int,
    count: Count,
    share: float,
    priority: tuple[str, ...] = PRIORITY,
    ask: str = "Question",
    method: str = "",
) -> tuple[list[Message], list[Source]]:
    def build(system: str, given: Sequence[Source]) -> list[Message]:
        return [message("system", system), message("user", _user(given, question, ask))]

    system = _system(
        profile,
        rules,
        lambda s: build(s, []),
        room=room,
        count=count,
        share=share,
        priority=priority,
        method=method,
    )

    def fits(given: list[Source]) -> bool:
        return prompt_tokens(build(system, given), count) <= room

    given: list[Source] = []
    for source in sources:
        numbered = replace(source, n=len(given) + 1)
        if fits([*given, numbered]):
            given.append(numbered)
            continue
        cut = _cut_to_fit(numbered, given, fits)
        if cut is not None:
            given.append(cut)
        break
    return build(system, given), given


def _cut_to_fit(
    source: Source, given: list[Source], fits: Callable[[list[Source]], bool]
) -> Source | None:
    """`source` with its passage cut to the room left after `given`, if a useful part fits."""
    text = shorten(
        source.text,
        lambda t: fits([*given, replace(source, text=t)]),
        min_words=MIN_PASSAGE_WORDS,
    )
    return replace(source, text=text) if text is not None else None


def _user(sources: Sequence[Source], question: str, ask: str) -> str:
    return sources_message(sources, question, ask)


def _system(
    profile: Profile,
    rules: str,
    build: Callable[[str], list[Message]],
    *,
    room: int,
    count: Count,
    share: float,
    priority: tuple[str, ...] = PRIORITY,
    method: str = "",
) -> str:
    """Persona + method + rules: the method within its share, then the largest persona
    within its share that keeps `build` in `room`. Raises PromptTooLong when the rules and
    question alone do not fit."""
    needed = prompt_tokens(build(rules), count)
    if needed > room:
        raise PromptTooLong(needed, room)
    rules = _with_method(method, rules, build, room=room, count=count, needed=needed)
    needed = prompt_tokens(build(rules), count)
    budget = min(room - needed, int(share * room))
    while budget > 0:
        text = persona(profile, budget, count, priority=priority)
        system = f"{text}\n\n{rules}" if text else rules
        over = prompt_tokens(build(system), count) - room
        if over <= 0:
            return system
        budget -= over
    return rules


def _with_method(
    method: str,
    rules: str,
    build: Callable[[str], list[Message]],
    *,
    room: int,
    count: Count,
    needed: int,
) -> str:
    """`rules` headed by the applied template's `method`, the method cut at a word to what
    fits in its share of the room (`METHOD_SHARE`); `rules` alone when none, or nothing
    useful, fits."""
    method = method.strip()
    if not method:
        return rules
    limit = min(room, needed + int(METHOD_SHARE * room))

    def fits(text: str) -> bool:
        return prompt_tokens(build(_method_and(text, rules)), count) <= limit

    kept = shorten(method, fits)
    return _method_and(kept, rules) if kept else rules


def _method_and(method: str, rules: str) -> str:
    return f"{METHOD_HEADING}\n{method}\n\n{rules}"
