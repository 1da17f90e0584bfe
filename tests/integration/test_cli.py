"""The `simtune` command against a real gateway (run in a thread: the gateway shares our loop)."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.support import pdfs

pytestmark = pytest.mark.integration

NO_STORED_KEYS = tempfile.mkdtemp(prefix="simtune-cli-config-")
LIGHTHOUSE = "The keeper of the Varnholm lighthouse polished the great lens every Tuesday."


class Simtune:
    """The `simtune` command against `url`, signed in with `key` (the owner's, in most tests)
    and never reading a key stored on this machine."""

    def __init__(self, url: str, key: str = "") -> None:
        self.url, self.key = url, key
        self.runner = CliRunner()

    async def __call__(self, *args: str, input: str | None = None):
        env = {
            "SIMTUNE_URL": self.url,
            "SIMTUNE_API_KEY": self.key,
            "SIMTUNE_CONFIG_DIR": NO_STORED_KEYS,
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
        return await asyncio.to_thread(
            self.runner.invoke, app, list(args), env=env, input=input, catch_exceptions=False
        )


@pytest.fixture
def simtune(stack) -> Simtune:
    return Simtune(stack.url, stack.owner.key)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


async def created_expert(simtune, api, prefix: str) -> dict:
    """An expert made with `simtune experts create`, as the API shows it."""
    name = unique(prefix)
    created = await simtune("experts", "create", name)
    assert created.exit_code == 0, created.stderr
    [found] = [e for e in (await api.get("/api/experts")).json() if e["name"] == name]
    return found


def expert_fixture(prefix: str):
    """A fixture `expert`: a new expert named after `prefix`, made with the CLI."""

    @pytest.fixture
    async def expert(simtune, api) -> dict:
        return await created_expert(simtune, api, prefix)

    return expert


def one_line_error(result, *words: str) -> None:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


async def test_expert_commands(simtune):
    name = unique("Ada")
    created = await simtune(
        "experts", "create", name, "--domain", "Lighthouses", "--goal", "Explain lenses",
        "--goal", "Tell tides apart",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    assert f"Created expert {name}" in created.stdout

    listed = await simtune("experts", "list")
    assert listed.exit_code == 0 and name in listed.stdout

    shown = await simtune("experts", "show", name)
    assert shown.exit_code == 0, shown.stderr
    for text in ("Lighthouses", "Explain lenses", "Tell tides apart", "0 (0 ready)"):
        assert text in shown.stdout
    expert_id = created.stdout.split("(id ")[1].split(")")[0]
    assert name in (await simtune("experts", "show", expert_id)).stdout

    refused = await simtune("experts", "delete", name, input="n\n")
    one_line_error(refused, "nothing was deleted")
    deleted = await simtune("experts", "delete", name, "--yes")
    assert deleted.exit_code == 0 and f"Deleted expert {name}" in deleted.stdout
    one_line_error(await simtune("experts", "show", name), "no expert", name)


async def test_invalid_input_and_ambiguous_names_are_one_line(simtune):
    one_line_error(await simtune("experts", "create", "   "), "name")
    twin = unique("Twin")
    for _ in range(2):
        assert (await simtune("experts", "create", twin)).exit_code == 0
    one_line_error(await simtune("experts", "show", twin), "2 experts", "use an id")
    one_line_error(await simtune("documents", "delete", "no-such-document"), "not found")


async def test_ingest_search_and_documents(simtune, tmp_path: Path):
    name = unique("Keeper")
    assert (await simtune("experts", "create", name)).exit_code == 0
    book = tmp_path / "lighthouse.pdf"
    book.write_bytes(pdfs.make_pdf(["The harbour and its boats.", f"Duties. {LIGHTHOUSE}"]))
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nThe fog horn sounds twice a minute in bad weather.\n" * 5)

    ingested = await simtune("ingest", name, str(book), str(notes))
    assert ingested.exit_code == 0, ingested.stdout + ingested.stderr
    assert "lighthouse.pdf" in ingested.stdout and "notes.md" in ingested.stdout
    assert ingested.stdout.count("ready") >= 2

    listed = await simtune("documents", "list", name)
    assert listed.exit_code == 0 and "lighthouse.pdf" in listed.stdout and "ready" in listed.stdout

    found = await simtune("search", name, "how often is the lens polished?", "-k", "2")
    assert found.exit_code == 0, found.stderr
    assert "1. lighthouse.pdf, page 2" in found.stdout and "Tuesday" in found.stdout
    assert "score" in found.stdout

    doc_id = next(
        line.split()[1] for line in listed.stdout.splitlines() if "lighthouse.pdf" in line
    )
    deleted = await simtune("documents", "delete", doc_id)
    assert deleted.exit_code == 0 and "Deleted lighthouse.pdf" in deleted.stdout
    assert "lighthouse.pdf" not in (await simtune("documents", "list", name)).stdout


async def test_ingest_reports_rejected_files_with_reasons_and_fails(simtune, tmp_path: Path):
    name = unique("Mixed")
    assert (await simtune("experts", "create", name)).exit_code == 0
    good = tmp_path / "good.txt"
    good.write_text("Useful words about sailing and knots.\n" * 10)
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(pdfs.make_encrypted_pdf("A secret."))

    result = await simtune("ingest", name, str(good), str(locked))
    one_line_error(result, "1 of 2 files could not be used")
    assert "good.txt" in result.stdout and "ready" in result.stdout
    assert "locked.pdf" in result.stdout and "rejected" in result.stdout
    assert "password" in result.stdout.lower()


async def test_ingest_refuses_an_unsupported_file_at_once(simtune, tmp_path: Path):
    name = unique("Picky")
    assert (await simtune("experts", "create", name)).exit_code == 0
    picture = tmp_path / "holiday.pdf"
    picture.write_bytes(pdfs.make_png())
    one_line_error(await simtune("ingest", name, str(picture)), "holiday.pdf", "PNG")
    assert "no documents yet" in (await simtune("documents", "list", name)).stdout


async def test_projections_rebuild(simtune):
    result = await simtune("projections", "rebuild", "expert")
    assert result.exit_code == 0, result.stderr
    assert "Rebuilt expert.experts from" in result.stdout
    one_line_error(await simtune("projections", "rebuild", "weather"), "weather")


async def test_unreachable_gateway_is_one_helpful_line():
    result = await Simtune("http://127.0.0.1:9")("experts", "list")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: cannot reach Simtune at http://127.0.0.1:9 — is `make run` running?"
    )
