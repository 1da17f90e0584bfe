"""`simtune ask`, `draft`, `feedback`, `traces` and `backend` against the real gateway; the
model is the scripted OpenAI-compatible server, so the answer's words are known."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.integration.test_cli import Simtune, one_line_error
from tests.support.api import new_expert, settled, upload
from tests.support.pdfs import make_pdf
from tests.support.scripted_llm import ScriptedLLM, cite_the_source_containing, serving

pytestmark = pytest.mark.integration
KEY = "sk-cli-5e6f7a8b"


@pytest.fixture
def simtune(stack) -> Simtune:
    return Simtune(stack.url, stack.owner.key)


@pytest.fixture
async def expert(api, monkeypatch):
    llm = ScriptedLLM(KEY, cite_the_source_containing("Varnholm"))
    async with serving(llm) as url:
        expert = await new_expert(api, name=f"Keeper {uuid.uuid4().hex[:6]}")
        pages = ["Gulls nest on the rocks. " * 10, "The Varnholm lighthouse has a great lens."]
        [doc] = (await upload(api, expert["id"], ("light.pdf", make_pdf(pages)))).json()[
            "documents"
        ]
        assert (await settled(api, doc["id"]))["status"] == "ready"
        monkeypatch.setenv("SCRIPTED_KEY", KEY)
        expert["llm_url"] = f"{url}/v1"
        yield expert


async def test_ask_streams_the_answer_and_prints_its_sources(simtune, expert, tmp_path):
    name = expert["name"]
    configured = await simtune(
        "backend", "set", name, "openai", "--base-url", expert["llm_url"], "--model", "scripted",
        "--api-key-env", "SCRIPTED_KEY",
    )  # fmt: skip
    assert configured.exit_code == 0, configured.stderr
    assert "API key" in configured.stdout and KEY not in configured.stdout
    tested = await simtune("backend", "test", name)
    assert tested.exit_code == 0 and "answered" in tested.stdout

    asked = await simtune("ask", name, "Which lighthouse has the great lens?")
    assert asked.exit_code == 0, asked.stderr
    assert "The Varnholm lighthouse has a great lens [1]." in asked.stdout
    assert "[1] light.pdf, page 2" in asked.stdout
    assert "1 citation named no source and was removed." in asked.stdout
    answer_id = re.search(r"answer ([0-9a-f]{16})", asked.stdout).group(1)

    better = tmp_path / "better.md"
    better.write_text("The Varnholm lighthouse [1].", encoding="utf-8")
    rated = await simtune(
        "feedback", answer_id, "--rating", "5", "--tag", "lenses", "--comment", "right page",
        "--edit-file", str(better),
    )  # fmt: skip
    assert rated.exit_code == 0, rated.stderr
    assert f"answer {answer_id} rated 5/5" in rated.stdout

    traces = await simtune("traces", name, "--rated")
    assert traces.exit_code == 0 and answer_id in traces.stdout and "★★★★★" in traces.stdout


async def test_draft_and_closed_mode_and_bad_input(simtune, expert):
    name = expert["name"]
    drafted = await simtune("draft", name, "a short note on lenses", "--max-tokens", "8")
    assert drafted.exit_code == 0, drafted.stderr
    assert "answer " in drafted.stdout and "local" not in drafted.stderr

    wrong_mode = await simtune("ask", name, "Anything?", "--mode", "psychic")
    one_line_error(wrong_mode, "--mode must be one of")
    bad_rating = await simtune("feedback", "0123456789abcdef", "--rating", "9")
    assert bad_rating.exit_code != 0
    missing = await simtune("feedback", "0123456789abcdef", "--rating", "3")
    one_line_error(missing, "was not found")
