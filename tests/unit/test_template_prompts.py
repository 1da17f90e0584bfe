"""An applied template's method in the system prompt, in every way the expert answers: it sits
between the persona and the mode's rules, it never pushes the prompt past the context, and on
a small model it is cut (at a word, marked) to its share of the room rather than crowding
out the persona, the question or the sources."""

from __future__ import annotations

import pytest

from contracts.expert import Profile, StyleGuide
from services.expert.answering.prompts import (
    closed_messages,
    draft_prompt,
    few_shot_messages,
    prompt_tokens,
    rag_messages,
)
from services.expert.answering.sources import Source
from services.expert.templates import body_of


def words(text: str) -> int:
    return len(text.split())


PROFILE = Profile(
    name="Ada Lovelace",
    domain="UK small-business tax",
    description="Ada has advised sole traders for twenty years.",
    style_guide=StyleGuide(tone="warm and direct", dont=["Never promise a refund"]),
)
METHOD = "Reason in three numbered steps: the rule, the figure, the deadline. Sign QUILL-7."
SOURCES = [
    Source(n=9, document_id="d1", filename="vat.pdf", page=2, chunk_id="c1", text="VAT is due.")
]


def every_mode(method: str, context: int = 4000) -> dict[str, list[dict]]:
    sizes = dict(context_tokens=context, answer_tokens=64, count=words)
    question = "When is VAT due?"
    return {
        "rag": rag_messages(PROFILE, question, SOURCES, method=method, **sizes)[0],
        "closed": closed_messages(PROFILE, question, method=method, **sizes),
        "prompt_tuned": few_shot_messages(
            PROFILE, question, [("Earlier?", "Yes.")], method=method, **sizes
        ),
        "draft": draft_prompt(PROFILE, "A note on VAT", method=method, **sizes)[0],
        "draft_with_sources": draft_prompt(
            PROFILE, "A note on VAT", sources=SOURCES, method=method, **sizes
        )[0],
    }


def test_the_method_is_in_the_system_prompt_of_every_mode_between_persona_and_rules():
    for mode, messages in every_mode(METHOD).items():
        system = messages[0]["content"]
        assert messages[0]["role"] == "system"
        assert METHOD in system, mode
        assert system.index("Ada Lovelace") < system.index("QUILL-7"), mode
        assert "QUILL-7" not in system.split("\n\n")[-1], mode  # the mode's rules come last


def test_without_a_method_the_prompts_are_as_before():
    for mode, messages in every_mode("").items():
        assert "QUILL-7" not in messages[0]["content"], mode
        assert "\n\n\n" not in messages[0]["content"], mode


@pytest.mark.parametrize("context", [160, 250, 400, 800])
def test_a_long_method_is_cut_to_its_share_and_every_prompt_still_fits(context):
    long_method = "Step: weigh each fact against the rule before answering. " * 400
    for mode, messages in every_mode(long_method, context).items():
        assert prompt_tokens(messages, words) + 64 <= context, mode
        system = messages[0]["content"]
        assert "Step: weigh" in system and "…" in system, mode
        if context >= 400:  # and the persona keeps its place where there is room for one
            assert "You are Ada Lovelace" in system, mode
        assert "When is VAT due?" in messages[-1]["content"] or mode.startswith("draft")


def test_the_front_matter_stays_out_of_the_method():
    content = "---\nname: Steps\nversion: 1.2.0\n---\n\n# Method\n\nThree steps.\n"
    assert body_of(content) == "# Method\n\nThree steps."
    assert body_of("No front matter here.") == "No front matter here."
