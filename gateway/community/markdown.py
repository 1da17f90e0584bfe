"""Template Markdown as HTML that is safe to show anywhere (NFR-CT-04).

A template is text someone else wrote, imported from a registry anyone can publish to, so
what it renders to is treated as hostile. Two steps, each a well-kept library doing what it
is good at:

1. markdown-it-py (CommonMark, plus tables and strikethrough) turns the text into HTML with
   raw HTML switched off: a `<script>` written in the template comes out as text. Images
   are off too: a picture from any address would be a tracking pixel (and the console's CSP
   refuses it), so `![alt](url)` shows as a link instead.
2. nh3 (the Rust sanitizer ammonia) then keeps only the tags and attributes below, links
   only to http, https and mailto, drops every event handler and comment, and gives each
   link `rel="nofollow noopener"`: whatever step 1 missed cannot run.

`render(text)` is the HTML as `Markup`, for a Jinja template to insert as it is;
`without_front_matter(text)` is a template's Markdown body, its YAML front matter (shown as
fields elsewhere) left out.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"
# Dropped with everything inside them, not just their tags: their content is never text.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "svg", "math"})

FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n.*?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M
)

# Relative links are dropped too: a template from elsewhere has no business pointing into
# this console (`/admin/...`) under a harmless-looking label.
_cleaner = nh3.Cleaner(
    tags=set(TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
    url_relative="deny",
)
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable(["table", "strikethrough"])
    .disable("image")
)


def render(text: str) -> Markup:
    """`text` (Markdown) as sanitized HTML: no script, no event handler, no `javascript:`
    or `data:` URL, links marked `nofollow noopener`."""
    html = _markdown.render(text or "")
    return Markup(clean(html))


def clean(html: str) -> str:
    """`html` with only the allowed tags, attributes and URL schemes left."""
    return _cleaner.clean(html).strip()


def without_front_matter(text: str) -> str:
    """A template's Markdown body: the leading `---` … `---` front matter block removed."""
    return FRONT_MATTER.sub("", text or "", count=1)
