"""The console's versions pages over HTTP, against the real gateway and registry: linked from
the expert; every version listed with the active one marked, and the base model as a choice;
Activate from a page that has gone stale says so; Delete is disabled for the active version;
Tag and Delete answer with the panel; a bad archive's import says why beside the form; the
compare page shows both versions and a benchmark row; the audit page filters; nothing 500s.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.integration.test_lora_api import imported, tiny_archives
from tests.support.api import HTML, csrf_token, new_expert, ui_post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def archives(servers, tmp_path_factory) -> list[bytes]:
    return tiny_archives(servers.base_model, tmp_path_factory.mktemp("loras"))


async def page(api, url: str, status: int = 200) -> str:
    response = await api.get(url, headers=HTML)
    assert response.status_code == status, response.text
    return html.unescape(response.text)


def row(text: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}".*?</tr>', text, re.S)
    assert match, f"no row {row_id}"
    return match.group(0)


def version_of(text: str) -> str:
    return re.search(r'name="expected_version" value="(\d+)"', text).group(1)


async def test_the_versions_page_is_linked_and_marks_the_active_one(api, archives):
    expert = await new_expert(api, name="Versioned")
    home = await page(api, f"/experts/{expert['id']}")
    assert f'href="/experts/{expert["id"]}/registry"' in home

    first, second = [await imported(api, expert["id"], a) for a in archives[:2]]
    versions = await page(api, f"/experts/{expert['id']}/registry")
    assert "Base model (no adapter)" in row(versions, "version-base")
    assert "Active" in row(versions, "version-base")  # nothing activated yet

    url = f"/ui/experts/{expert['id']}/registry/activate"
    form = {"adapter_id": second["id"], "expected_version": version_of(versions)}
    done = await ui_post(api, url, form, htmx=True)
    assert done.status_code == 200, done.text
    panel = html.unescape(done.text)
    assert "is active" in panel
    active_row = row(panel, f"version-{second['id']}")
    assert 'class="is-active' in active_row and "active-badge" in active_row
    assert "is-active" not in row(panel, f"version-{first['id']}")
    assert 'disabled title="The active version cannot be deleted' in active_row
    for text in ("Valid", "MB", "Imported", "Verify", f"/api/lora/{second['id']}/export"):
        assert text in active_row, text


async def test_a_stale_page_says_someone_changed_it(api, archives):
    expert = await new_expert(api)
    first, second = [await imported(api, expert["id"], a) for a in archives[:2]]
    versions = await page(api, f"/experts/{expert['id']}/registry")
    seen = version_of(versions)
    url = f"/ui/experts/{expert['id']}/registry/activate"
    assert (await ui_post(api, url, {"adapter_id": first["id"], "expected_version": seen},
                          htmx=True)).status_code == 200  # fmt: skip
    stale = await ui_post(api, url, {"adapter_id": second["id"], "expected_version": seen},
                          htmx=True)  # fmt: skip
    assert stale.status_code == 409, stale.text
    assert "since you loaded this page" in html.unescape(stale.text)
    assert "reload" in html.unescape(stale.text)

    without_js = await ui_post(api, url, {"adapter_id": second["id"], "expected_version": seen})
    assert without_js.status_code == 409 and "<html" in without_js.text


async def test_tag_and_delete_answer_with_the_panel(api, archives):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    tagged = await ui_post(api, f"/ui/registry/{view['id']}/tag", {"add": "stable"}, htmx=True)
    assert tagged.status_code == 200, tagged.text
    kept = row(html.unescape(tagged.text), f"version-{view['id']}")
    assert "chip-stable" in kept and 'disabled title="Tagged stable' in kept

    refused = await ui_post(api, f"/ui/registry/{view['id']}/delete", htmx=True)
    assert refused.status_code == 409, refused.text
    assert 'id="error-' in refused.text  # beside the version's controls

    await ui_post(api, f"/ui/registry/{view['id']}/tag", {"remove": "stable"}, htmx=True)
    deleted = await ui_post(api, f"/ui/registry/{view['id']}/delete", htmx=True)
    assert deleted.status_code == 200, deleted.text
    assert f"version-{view['id']}" not in deleted.text and "is deleted" in deleted.text


async def test_a_bad_archive_is_explained_beside_the_import_form(api):
    expert = await new_expert(api)
    token = await csrf_token(api)
    response = await api.post(
        f"/ui/experts/{expert['id']}/registry/import",
        files={"file": ("notes.tar.gz", b"certainly not gzip", "application/gzip")},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 400, response.text
    text = html.unescape(response.text)
    assert 'id="error-import"' in text and "notes.tar.gz is not a .tar.gz archive" in text


async def test_an_archive_imports_from_the_console(api, archives):
    expert = await new_expert(api)
    token = await csrf_token(api)
    response = await api.post(
        f"/ui/experts/{expert['id']}/registry/import",
        params={"_csrf": token},
        files={"file": ("mine.tar.gz", archives[2], "application/gzip")},
        headers=HTML,
    )
    assert response.status_code == 303, response.text
    versions = await page(api, f"/experts/{expert['id']}/registry")
    assert "mine.tar.gz" in versions


async def test_compare_shows_both_versions_and_a_benchmark_row(api, archives):
    expert = await new_expert(api)
    a, b = [await imported(api, expert["id"], x) for x in archives[:2]]
    text = await page(api, f"/experts/{expert['id']}/registry/compare?a={a['id']}&b={b['id']}")
    assert a["id"] in text and b["id"] in text
    assert "Benchmark scores" in text and "no benchmark yet" in text
    assert 'class="differs"' in text  # their files' hashes differ
    one = await page(api, f"/experts/{expert['id']}/registry/compare?a={a['id']}", status=400)
    assert "Pick two different versions" in one


async def test_the_audit_page_filters(api, archives):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    await api.post(f"/api/lora/{view['id']}/activate")
    assert (await api.delete(f"/api/lora/{view['id']}")).status_code == 409
    url = f"/experts/{expert['id']}/registry/audit"
    everything = await page(api, url)
    assert 'data-action="activate"' in everything and 'data-action="delete"' in everything
    assert "format=csv" in everything and "format=json" in everything

    refused = await page(api, f"{url}?outcome=refused")
    assert 'data-action="delete"' in refused and 'data-action="activate"' not in refused
    future = await page(api, f"{url}?since=2999-01-01")
    assert "matches these filters" in future
    bad = await page(api, f"{url}?since=yesterday", status=400)
    assert "must look like 2025-03-01" in bad


async def test_unknown_things_are_404_pages_not_500s(api):
    expert = await new_expert(api)
    assert "No versions yet" in await page(api, f"/experts/{expert['id']}/registry")
    await page(api, "/experts/nope/registry", status=404)
    await page(api, "/experts/nope/registry/audit", status=404)
    gone = await ui_post(api, "/ui/registry/nope/delete", htmx=True)
    assert gone.status_code == 404


async def test_the_old_console_urls_redirect_to_their_contexts_names(api):
    """Before each context had one name, its pages were `versions`, `finetune` and
    `benchmarks`: a bookmark of one is sent, permanently, to the same page under the new name."""
    expert = await new_expert(api)
    base = f"/experts/{expert['id']}"
    moved = {
        f"{base}/versions": f"{base}/registry",
        f"{base}/versions/audit?outcome=refused": f"{base}/registry/audit?outcome=refused",
        f"{base}/finetune?saved=true": f"{base}/trainer?saved=true",
        f"{base}/benchmarks/questions": f"{base}/benchmark/questions",
        "/finetune/run-1": "/trainer/run-1",
        "/benchmarks/run-1": "/benchmark/run-1",
    }
    for old, new in moved.items():
        response = await api.get(old, follow_redirects=False)
        assert response.status_code == 301, old
        assert response.headers["location"] == new
    followed = await api.get(f"{base}/versions/audit", headers=HTML, follow_redirects=True)
    assert followed.status_code == 200 and "Audit trail" in followed.text
