"""The console's dataset pages over HTTP, against the real gateway and services: the builder
form and its versions list (live while building, with Cancel), mistakes in hand-written
examples named by line, a version's page with its counts, downloads, left-out candidates
and review table, and changes that make new versions while the old page stays as it was.

Examples are hand-written (no model: a build takes well under a second), except where a
build must stay running: there a scripted model answers slowly.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.api import (
    HTML,
    dataset_settled,
    linked_section,
    new_expert,
    settled,
    ui_post,
    upload,
)
from tests.support.scripted_llm import scripted_model

pytestmark = pytest.mark.integration

KEY = "sk-console-datasets-9f8e7d"
PAIRS = "\n".join(
    f"Q: Where is berth {n}?\nA: Berth {n} is on the east quay,\nnext to the crane {n}.\n"
    for n in range(12)
)


async def page(api, url: str, **params) -> str:
    response = await api.get(url, params=params or None, headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


async def build_by_form(api, expert_id: str, **fields) -> tuple[str, str]:
    """Press Build with only "Examples I write" ticked; the reply and the version's id."""
    form = {"manual": "on", "max_examples": "500", "seed": "0", **fields}
    reply = await ui_post(api, f"/ui/experts/{expert_id}/datasets", form, htmx=True)
    assert reply.status_code == 200, reply.text
    [newest, *_] = (await api.get(f"/api/experts/{expert_id}/datasets")).json()
    return reply.text, newest["id"]


def links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)]


async def test_the_builder_page_explains_each_source_and_is_linked_from_the_expert(api):
    builder = await linked_section(api, page, "Dataset guide", "datasets", "Training data")
    for text in (
        "From my documents",
        "Number of questions",
        "Automatic",
        "Offline",
        "My model",
        "Good answers",
        "Lowest quality score",
        "Lowest rating",
        "My edits (also as preference pairs)",
        "Examples I write",
        "a line starting with <code>Q:</code>",
        "Max examples",
        "Seed",
        ">Build</button>",
        "No versions yet.",
    ):
        assert text in builder, text


async def test_a_build_from_the_form_shows_up_in_the_versions_with_its_counts(api):
    expert = await new_expert(api)
    html, dataset_id = await build_by_form(api, expert["id"], manual_text=PAIRS)
    assert "Building version 1" in html and f'href="/datasets/{dataset_id}"' in html
    view = await dataset_settled(api, dataset_id)
    assert view["status"] == "ready" and view["sources"] == {"manual": 12}, view

    versions = await page(api, f"/ui/experts/{expert['id']}/datasets/versions")
    assert 'hx-trigger="every 1s"' not in versions  # nothing building: it stops asking
    row = re.search(rf'<tr id="version-{dataset_id}".*?</tr>', versions, re.S).group(0)
    assert "Ready" in row and "Examples I write: 12" in row
    assert f"{view['train_examples']} to train, {view['val_examples']} to check" in row
    assert "Needs 38 more examples before training." in row  # 50 needed by default


async def test_mistakes_in_hand_written_examples_are_named_by_line(api):
    expert = await new_expert(api)
    url = f"/ui/experts/{expert['id']}/datasets"
    pairs = "Q: Fine?\nA: Yes.\nA: An answer with no question."
    refused = await ui_post(api, url, {"manual": "on", "manual_text": pairs}, htmx=True)
    assert refused.status_code == 400
    assert "line 3" in refused.text and "expected a question (Q:)" in refused.text
    assert "A: An answer with no question." in refused.text  # what was typed stays

    jsonl = '{"question": "Fine?", "answer": "Yes."}\n\n{"question": "No answer?"}'
    refused = await ui_post(api, url, {"manual": "on", "manual_text": jsonl}, htmx=True)
    assert refused.status_code == 400 and "line 3: answer is missing" in refused.text

    empty = await ui_post(api, url, {"manual": "on", "manual_text": " "}, htmx=True)
    assert empty.status_code == 400 and "Write at least one example" in empty.text
    nothing = await ui_post(api, url, {}, htmx=True)
    assert nothing.status_code == 400 and "at least one source" in nothing.text
    bad_number = await ui_post(api, url, {"knowledge": "on", "questions": "lots"}, htmx=True)
    assert "The number of questions must be a whole number from 1 to 5000" in bad_number.text

    page_form = await ui_post(api, url, {"manual": "on", "manual_text": pairs})
    assert page_form.status_code == 400 and "line 3" in page_form.text
    assert (await api.get(f"/api/experts/{expert['id']}/datasets")).json() == []


async def test_the_version_page_shows_counts_downloads_left_out_and_the_examples(api):
    expert = await new_expert(api, banned_topics=["smuggling"])
    extra = "Q: Where is berth 3?\nA: Said twice.\nQ: Is smuggling common?\nA: No.\n"
    _, dataset_id = await build_by_form(api, expert["id"], manual_text=PAIRS + extra)
    view = await dataset_settled(api, dataset_id)

    html = await page(api, f"/datasets/{dataset_id}")
    for text in (
        "Version 1 of the training data",
        "stays readable",
        "Examples I write: 12",
        "Same question twice: 1",
        "A banned topic: 1",
        "Needs 38 more examples",
        "Where is berth 0?",
        "Berth 0 is on the east quay,\nnext to the crane 0.",
        "Written by you",
        "Examples 1–12 of 12",
    ):
        assert text in html, text
    left_out = html.split('id="rejected-title"')[1]
    assert 'data-code="duplicate"' in left_out and "Is smuggling common?" in left_out

    exports = [h for h in links(html) if "/export?" in h]
    assert len(exports) == 6
    counts = {}
    for href in exports:
        download = await api.get(href)
        assert download.status_code == 200 and "attachment" in download.headers.get(
            "content-disposition", ""
        ), href
        counts[href] = [json.loads(line) for line in download.text.splitlines()]
    chat = [h for h in exports if "format=chat" in h]
    assert sum(len(counts[h]) for h in chat) == 12
    assert view["train_examples"] == len(
        counts[f"/api/datasets/{dataset_id}/export?format=chat&split=train"]
    )

    train = await page(api, f"/datasets/{dataset_id}", split="val", source="manual")
    assert f"Examples 1–{view['val_examples']} of {view['val_examples']}" in train
    none = await page(api, f"/datasets/{dataset_id}", source="traces")
    assert "No examples match these filters." in none


async def test_paging_through_the_examples(api):
    expert = await new_expert(api)
    many = "\n".join(f"Q: Question number {n}?\nA: Answer {n}." for n in range(45))
    _, dataset_id = await build_by_form(api, expert["id"], manual_text=many)
    await dataset_settled(api, dataset_id)
    first = await page(api, f"/datasets/{dataset_id}")
    assert "Examples 1–20 of 45" in first and "Previous examples" not in first
    later = next(h for h in links(first) if "offset=20" in h)
    second = await page(api, later)
    assert "Examples 21–40 of 45" in second and "Previous examples" in second
    third = await page(api, next(h for h in links(second) if "offset=40" in h))
    assert "Examples 41–45 of 45" in third and "Next examples" not in third


async def test_edit_delete_and_add_each_make_a_new_version_and_leave_this_one(api):
    expert = await new_expert(api)
    _, first_id = await build_by_form(api, expert["id"], manual_text=PAIRS)
    await dataset_settled(api, first_id)
    before = await page(api, f"/datasets/{first_id}")
    [target, other, *_] = re.findall(r'<tbody id="ex-([^"]+)"', before)

    url = f"/ui/datasets/{first_id}/examples/{target}"
    change = {"question": "Where is the new berth?", "answer": "By the lighthouse.", "tags": "x, y"}
    saved = await ui_post(api, url, change, htmx=True)
    assert saved.status_code == 200, saved.text
    second_id = re.search(r'href="/datasets/([^"]+)">version 2</a>', saved.text).group(1)
    assert "Saved as" in saved.text
    old = await page(api, f"/datasets/{first_id}")
    assert "Where is the new berth?" not in old and old.count('<tbody id="ex-') == 12
    edited = await page(api, f"/datasets/{second_id}")
    assert "Where is the new berth?" in edited and "Tags: x, y" in edited
    assert f'<a href="/datasets/{first_id}">version 1</a>' in edited

    empty = await ui_post(api, url, {"question": "Still here?", "answer": " "}, htmx=True)
    assert empty.status_code == 400 and "Write both a question and an answer." in empty.text
    assert "Still here?" in empty.text

    deleted = await ui_post(api, f"/ui/datasets/{second_id}/examples/{other}/delete", htmx=True)
    third_id = re.search(r'href="/datasets/([^"]+)">version 3</a>', deleted.text).group(1)
    assert "Deleted. Saved as" in deleted.text
    third = (await api.get(f"/api/datasets/{third_id}")).json()
    assert third["train_examples"] + third["val_examples"] == 11

    added = await ui_post(
        api, f"/ui/datasets/{third_id}/examples",
        {"question": "Is the harbour open at night?", "answer": "Yes, with a pilot."}, htmx=True,
    )  # fmt: skip
    assert "Added. Saved as" in added.text and ">version 4</a>" in added.text
    without_js = await ui_post(
        api, f"/ui/datasets/{third_id}/examples", {"question": "Q?", "answer": "A."}
    )
    assert without_js.status_code == 303
    assert without_js.headers["location"].startswith(f"/datasets/{third_id}?saved=")
    banner = await page(api, without_js.headers["location"])
    assert "Saved as" in banner and ">version 5</a>" in banner

    assert "Where is the new berth?" not in await page(api, f"/datasets/{first_id}")
    assert "Is the harbour open at night?" not in await page(api, f"/datasets/{third_id}")


async def test_a_running_build_shows_its_progress_and_can_be_cancelled(api):
    expert = await new_expert(api)
    notes = ("notes.txt", b"The harbour opens at six and closes at ten. " * 40)
    [doc] = (await upload(api, expert["id"], notes)).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    async with scripted_model(KEY, lambda m: '{"question": "Q?", "answer": "A."}') as llm:
        llm.delay_s = 60.0  # the build is surely still going when the page is read
        slow = {"kind": "openai", "base_url": llm.url, "model": "slow", "api_key": KEY}
        await api.put(f"/api/experts/{expert['id']}/backend", json=slow)
        sources = {"knowledge": {"questions": 3, "generator": "backend"}, "feedback": True}
        started = await api.post(f"/api/experts/{expert['id']}/datasets", json={"sources": sources})
        dataset_id = started.json()["dataset_id"]

        versions = await page(api, f"/ui/experts/{expert['id']}/datasets/versions")
        assert 'hx-trigger="every 1s"' in versions and "Building" in versions
        assert f'hx-post="/ui/datasets/{dataset_id}/cancel"' in versions
        building = await page(api, f"/datasets/{dataset_id}")
        assert 'hx-select="#dataset-page"' in building and "Cancel the build" in building

        cancelled = await ui_post(api, f"/ui/datasets/{dataset_id}/cancel", htmx=True)
        assert cancelled.status_code == 200, cancelled.text
        assert (await dataset_settled(api, dataset_id))["status"] == "cancelled"
    after = await page(api, f"/ui/experts/{expert['id']}/datasets/versions")
    assert "Cancelled" in after and 'hx-trigger="every 1s"' not in after
