"""The community aggregates, pure: given events, when a request, then the event or the
refusal a person reads."""

from __future__ import annotations

import pytest

from contracts.base import DomainError
from contracts.community import (
    ForkedFrom,
    FrontMatter,
    ImportedFrom,
    PublishedAs,
    TemplateApplied,
    TemplateCreated,
    TemplateDownloaded,
    TemplateHidden,
    TemplateImported,
    TemplateReported,
    TemplateReviewed,
    TemplateUnpublished,
)
from services.community.domain import applied, published, template

SHA = "ab" * 32


def front(version: str = "1.0.0", name: str = "Tutor") -> FrontMatter:
    return FrontMatter(name=name, version=version)


def given(domain, *events):
    state = domain.INITIAL
    for event in events:
        state = domain.evolve(state, event)
    return state


def created(version: str = "1.0.0") -> TemplateCreated:
    return TemplateCreated(
        template_id="t1", version=version, sha256=SHA, content="body", front_matter=front(version)
    )


def origin(version: str = "1.0.0", key: str = "K" * 43 + "=") -> ImportedFrom:
    return ImportedFrom(
        registry_id="r1", version=version, signature="s" * 86 + "==", public_key=key
    )


def imported(version: str = "1.0.0", key: str = "K" * 43 + "=") -> TemplateImported:
    return TemplateImported(
        template_id="t9", imported_from=origin(version, key), version=version, sha256=SHA,
        content="body", front_matter=front(version),
    )  # fmt: skip


# ---- a person's template ---------------------------------------------------------------------


def test_an_edit_is_a_new_version_whose_number_grows():
    state = given(template, created("1.0.0"))
    event = template.decide_edit(state, "t1", "new", front("1.1.0"), SHA, "1.0.0")
    assert (event.version, event.previous_version) == ("1.1.0", "1.0.0")
    state = template.evolve(state, event)
    assert [v.version for v in state.versions] == ["1.0.0", "1.1.0"]
    assert state.at("1.0.0").content == "body"  # the older version is kept as it was
    with pytest.raises(DomainError, match="must be greater than 1.1.0") as err:
        template.decide_edit(state, "t1", "x", front("1.1.0"), SHA, "1.1.0")
    assert err.value.status == 400
    with pytest.raises(DomainError, match="1.0.9 must be greater"):
        template.decide_edit(state, "t1", "x", front("1.0.9"), SHA, "1.1.0")


def test_versions_are_compared_as_numbers():
    state = given(template, created("1.9.0"))
    event = template.decide_edit(state, "t1", "x", front("1.10.0"), SHA, "1.9.0")
    assert event.version == "1.10.0"


def test_an_edit_made_on_an_older_version_is_refused_as_a_conflict():
    state = given(template, created("1.0.0"))
    state = template.evolve(
        state, template.decide_edit(state, "t1", "b", front("2.0.0"), SHA, "1.0.0")
    )
    with pytest.raises(DomainError, match="it is at version 2.0.0") as err:
        template.decide_edit(state, "t1", "c", front("3.0.0"), SHA, "1.0.0")
    assert err.value.status == 409


def test_a_deleted_template_reads_as_never_made():
    state = given(template, created())
    state = template.evolve(state, template.decide_delete(state, "t1"))
    for decide in (
        lambda: template.decide_delete(state, "t1"),
        lambda: template.decide_edit(state, "t1", "x", front("2.0.0"), SHA, "1.0.0"),
        lambda: template.publishable(state, "t1"),
    ):
        with pytest.raises(DomainError, match="template t1 was not found"):
            decide()


def test_a_fork_keeps_where_it_came_from():
    source = given(template, created("1.2.0")).latest
    origin_ = ForkedFrom(template_id="t1", version="1.2.0")
    event = template.decide_fork(template.INITIAL, "t2", origin_, source)
    state = template.evolve(template.INITIAL, event)
    assert state.forked_from == origin_ and state.latest.content == "body"


def test_an_imported_copy_is_updated_by_a_newer_version_and_never_edited():
    state = given(template, imported("1.0.0"))
    with pytest.raises(DomainError, match="fork it"):
        template.decide_edit(state, "t9", "x", front("2.0.0"), SHA, "1.0.0")
    with pytest.raises(DomainError, match="fork it to publish"):
        template.publishable(state, "t9")
    assert template.decide_import(state, "t9", origin("1.0.0"), "body", front(), SHA) is None
    newer = template.decide_import(state, "t9", origin("1.1.0"), "new", front("1.1.0"), SHA)
    state = template.evolve(state, newer)
    assert [v.version for v in state.versions] == ["1.0.0", "1.1.0"]


def test_a_newer_version_signed_by_another_key_is_not_imported():
    state = given(template, imported("1.0.0"))
    other = origin("1.1.0", key="Z" * 43 + "=")
    with pytest.raises(DomainError, match="signed by a different key") as err:
        template.decide_import(state, "t9", other, "evil", front("1.1.0"), SHA)
    assert err.value.status == 409


def test_a_published_version_is_not_published_twice():
    state = given(template, created("1.0.0"))
    assert template.publishable(state, "t1").version == "1.0.0"
    state = template.evolve(
        state, template.decide_share(state, "t1", PublishedAs(registry_id="r1", version="1.0.0"))
    )
    with pytest.raises(DomainError, match="published already") as err:
        template.publishable(state, "t1")
    assert err.value.status == 409


# ---- the template an expert answers with --------------------------------------------------


def test_applying_the_same_template_again_changes_nothing_and_none_removes_it():
    event = applied.decide_apply(applied.INITIAL, "e1", "t1", None, registry_id="r1")
    assert event == TemplateApplied(expert_id="e1", template_id="t1", registry_id="r1")
    state = applied.evolve(applied.INITIAL, event)
    assert applied.decide_apply(state, "e1", "t1", None) is None
    pinned = applied.decide_apply(state, "e1", "t1", "1.0.0")
    assert pinned.version == "1.0.0" and pinned.previous_template_id == "t1"
    removed = applied.decide_apply(state, "e1", None, "1.0.0")
    assert removed.template_id is None and removed.version is None
    assert removed.registry_id is None


# ---- the registry ---------------------------------------------------------------------------

KEY = "P" * 43 + "="


def publication(**fields):
    fields = {
        "registry_id": "r1", "publisher": "alice", "version": "1.0.0", "sha256": SHA,
        "content": "body", "front_matter": front(), "signature": "s" * 86 + "==",
        "public_key": KEY, "author": "Alice", **fields,
    }  # fmt: skip
    return fields


def on_registry(*events):
    first = published.decide_publish(published.INITIAL, **publication())
    return given(published, first, *events)


def test_only_the_publisher_with_the_same_key_publishes_greater_versions():
    state = on_registry()
    with pytest.raises(DomainError, match="published already"):
        published.decide_publish(state, **publication())
    with pytest.raises(DomainError, match="only the publisher"):
        published.decide_publish_version(state, **publication(publisher="mallory", version="2.0.0"))
    with pytest.raises(DomainError, match="must be signed with the key"):
        published.decide_publish_version(state, **publication(version="2.0.0", public_key="Q" * 44))
    with pytest.raises(DomainError, match="must be greater than 1.0.0"):
        published.decide_publish_version(state, **publication(version="1.0.0"))
    event = published.decide_publish_version(state, **publication(version="1.1.0"))
    assert event.previous_version == "1.0.0"


def test_unpublished_templates_cannot_be_downloaded_but_nothing_else_is_lost():
    state = on_registry(TemplateUnpublished(registry_id="r1", by="alice"))
    with pytest.raises(DomainError, match="unpublished by its publisher") as err:
        published.decide_download(state, "r1", None, "bob")
    assert err.value.status == 404
    assert published.decide_unpublish(state, "r1", "alice") is None
    with pytest.raises(DomainError, match="only the publisher"):
        published.decide_unpublish(on_registry(), "r1", "bob")


def test_a_person_is_counted_once_and_anonymous_downloads_each_time():
    state = on_registry()
    version, event = published.decide_download(state, "r1", None, "bob")
    assert version.version == "1.0.0" and event == TemplateDownloaded(
        registry_id="r1", version="1.0.0", by="bob"
    )
    state = published.evolve(state, event)
    assert published.decide_download(state, "r1", None, "bob")[1] is None
    assert published.decide_download(state, "r1", None, "nobody")[1] is not None
    with pytest.raises(DomainError, match="has no version 9.9.9"):
        published.decide_download(state, "r1", "9.9.9", "bob")


def test_ratings_and_reviews_come_once_each_from_people_who_imported_it():
    state = on_registry()
    with pytest.raises(DomainError, match="only people who imported") as err:
        published.decide_rate(state, "r1", "bob", 5)
    assert err.value.status == 409
    with pytest.raises(DomainError, match="only people who imported"):
        published.decide_rate(state, "r1", "nobody", 5)
    state = published.evolve(state, TemplateDownloaded(registry_id="r1", version="1.0.0", by="bob"))
    first = published.decide_rate(state, "r1", "bob", 5)
    assert first.previous is None
    state = published.evolve(state, first)
    assert published.decide_rate(state, "r1", "bob", 5) is None
    changed = published.decide_rate(state, "r1", "bob", 3)
    assert changed.previous == 5 and changed.stars == 3
    review = published.decide_review(state, "r1", "bob", "Good.")
    state = published.evolve(state, review)
    assert published.decide_review(state, "r1", "bob", "Good.") is None
    assert isinstance(published.decide_review(state, "r1", "bob", "Better."), TemplateReviewed)


def test_a_report_opens_one_case_and_hiding_records_its_reason():
    state = on_registry()
    report = published.decide_report(state, "r1", "bob", "holds a URL", "c1")
    state = published.evolve(state, report)
    with pytest.raises(DomainError, match="reported template r1 already"):
        published.decide_report(state, "r1", "bob", "again", "c2")
    with pytest.raises(DomainError, match="say why"):
        published.decide_moderate(state, "r1", "c1", "hide", "  ", "owner")
    hidden = published.decide_moderate(state, "r1", "c1", "hide", "asks to leak data", "owner")
    assert hidden == TemplateHidden(
        registry_id="r1", case_id="c1", reason="asks to leak data", by="owner"
    )
    state = published.evolve(state, hidden)
    assert state.hidden and state.cases["c1"].state == "hidden" and not state.available
    with pytest.raises(DomainError, match="hidden by the registry's moderators: asks to leak"):
        published.decide_download(state, "r1", None, "carol")
    with pytest.raises(DomainError, match="decided already"):
        published.decide_moderate(state, "r1", "c1", "dismiss", "", "owner")
    restored = published.decide_moderate(state, "r1", None, "restore", "fixed", "owner")
    state = published.evolve(state, restored)
    assert not state.hidden and state.available
    with pytest.raises(DomainError, match="is not hidden"):
        published.decide_moderate(state, "r1", None, "restore", "", "owner")


def test_a_dismissed_report_leaves_the_template_listed():
    state = on_registry(TemplateReported(registry_id="r1", case_id="c1", by="bob", reason="meh"))
    with pytest.raises(DomainError, match="name the case"):
        published.decide_moderate(state, "r1", None, "dismiss", "", "owner")
    event = published.decide_moderate(state, "r1", "c1", "dismiss", "not a problem", "owner")
    state = published.evolve(state, event)
    assert state.available and state.cases["c1"].state == "dismissed"
    # bob may report again once his case was decided
    assert published.decide_report(state, "r1", "bob", "still", "c2").case_id == "c2"
