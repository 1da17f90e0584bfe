"""What every console page of templates shares: the fixed sentences a redirect's `done` word
stands for, a template's Markdown and a diff as sanitized HTML, a refusal split into its
findings, and the redirect back to the page that shows an outcome.

Everything a template holds was written by someone else, possibly to attack whoever reads
it: its Markdown is shown only through `markdown.render` (rendered, then sanitized), every
other field through Jinja's autoescaping, and a diff through difflib (which escapes each
line) and the same sanitizer.
"""

from __future__ import annotations

import difflib
from urllib.parse import urlencode

import nh3
from litestar.response import Redirect
from markupsafe import Markup

from contracts.base import DomainError
from contracts.expert import ExpertView, ListExperts
from gateway.backend import Backend
from gateway.community.markdown import render, without_front_matter

# What a redirect's `done` word says on the page it leads to: fixed sentences only, so a
# link cannot make the console say something it did not do.
DONE = {
    "created": "Your template is saved.",
    "edited": "The new version is saved.",
    "forked": "This is your copy: change it as you like.",
    "deleted": "The template is deleted.",
    "published": "Published: anyone who uses the registry can find and import it now.",
    "applied": "The expert answers with this template from its next answer.",
    "removed": "The expert answers without a template from its next answer.",
    "imported": "Imported: the template is yours to apply, also when offline.",
    "rated": "Thank you: your rating is saved.",
    "reviewed": "Thank you: your review is saved.",
    "reported": "Reported: the registry's owner will look at it.",
    "moderated": "Done: the case is decided.",
}
DIFF_TAGS = {"table", "thead", "tbody", "colgroup", "col", "tr", "th", "td", "a", "span"}
DIFF_ATTRIBUTES = {
    "table": {"class", "id", "summary"},
    "td": {"class", "id", "nowrap"},
    "th": {"class", "colspan"},
    "span": {"class"},
    "a": {"href"},
}


def done_text(done: str) -> str | None:
    return DONE.get(done)


def shown(text: str) -> Markup:
    """A template's Markdown body (without its front matter) as sanitized HTML."""
    return render(without_front_matter(text))


def diff_table(old: str, new: str, old_label: str, new_label: str) -> Markup:
    """The lines that changed between two versions, side by side: difflib's table (each line
    escaped by difflib), then sanitized like every other piece of a template."""
    table = difflib.HtmlDiff(wrapcolumn=70).make_table(
        old.splitlines(), new.splitlines(), old_label, new_label, context=True, numlines=2
    )
    cleaned = nh3.clean(
        table,
        tags=DIFF_TAGS,
        attributes={tag: set(names) for tag, names in DIFF_ATTRIBUTES.items()},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )
    return Markup(cleaned)


def findings(detail: str) -> tuple[str, list[str]]:
    """A publishing refusal as its sentence and its findings, one per line of the template
    ("… personal data — line 7: e-mail address (a***@e***.org); line 9: …")."""
    head, dash, tail = detail.partition(" — ")
    return (head, tail.split("; ")) if dash else (detail, [])


def refused(exc: DomainError) -> DomainError:
    """A service's refusal is shown on the page; an outage is the error page."""
    if exc.status >= 500:
        raise exc
    return exc


def back(path: str, done: str) -> Redirect:
    return Redirect(f"{path}?{urlencode({'done': done})}", status_code=303)


async def experts_by_id(backend: Backend) -> dict[str, ExpertView]:
    return {e.id: e for e in (await backend.ask(ListExperts())).experts}
