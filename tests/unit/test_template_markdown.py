"""Template Markdown renders inert (NFR-CT-04): whatever a template's author wrote in any of
its fields — name, description, domain, methodology, keywords, the body, a review, a report's
reason, the author's name — comes out of `markdown.render` with no script, no event handler,
no `javascript:`/`data:`/`vbscript:` URL and no tag that loads or runs anything, and its links
marked `nofollow noopener`. The HTML is parsed (not searched as text) so an attribute hidden
by odd quoting or entities is found the way a browser would find it."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from gateway.community.markdown import render, without_front_matter

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href='javascript:alert(1)'>click</a>",
    "<details open ontoggle=alert(1)>",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<object data=javascript:alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    '[click](https://ok.example "x\\" onmouseover=\\"alert(1)")',
    "![x](javascript:alert(1))",
    '![x](https://evil.example/pixel.png "onerror=alert(1)")',
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<!-- <script>alert(1)</script> -->",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base href=javascript:alert(1)//>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
]

FIELDS = [
    "name",
    "description",
    "domain",
    "methodology",
    "keywords",
    "body",
    "review",
    "report_reason",
    "author",
]

DANGEROUS_TAGS = {
    "script", "style", "iframe", "object", "embed", "svg", "math", "img", "form", "input",
    "button", "meta", "base", "link", "frame", "frameset", "video", "audio", "source",
    "details", "template", "textarea", "select",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster"}
BAD_SCHEME = re.compile(r"^(javascript|vbscript|data|file):", re.I)
CONTROL = re.compile(r"[\x00-\x20\x7f]+")


class Elements(HTMLParser):
    """Every start tag with its attributes (values unescaped, as a browser reads them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def elements(markup: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(markup)
    parser.close()
    return parser.tags


def assert_inert(markup: str) -> None:
    for tag, attributes in elements(markup):
        assert tag not in DANGEROUS_TAGS, (tag, markup)
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name, markup)
            assert name != "style", (tag, markup)
            if name in URL_ATTRIBUTES:
                scheme = CONTROL.sub("", html.unescape(value))
                assert not BAD_SCHEME.match(scheme), (tag, name, value, markup)
        if tag == "a":
            assert attributes.get("rel") == "nofollow noopener", markup


def template_with(field: str, payload: str) -> str:
    """A template holding `payload` in `field` (front matter and body as a person sees them
    rendered: the fields go through `render` just like the body)."""
    front = {
        "name": "Socratic tutor",
        "description": "Asks before it tells.",
        "domain": "teaching",
        "methodology": "socratic",
        "keywords": "questions, tutoring",
    }
    if field in front:
        front[field] = payload
    body = payload if field == "body" else "Ask one question at a time."
    return "\n\n".join([*front.values(), body])


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_renders_inert_in_every_field(field: str, payload: str):
    assert_inert(render(template_with(field, payload)))
    assert_inert(render(payload))


def test_a_script_written_in_a_template_is_shown_as_text_not_run():
    shown = render("Say <script>alert('hi')</script> to start.")
    assert "<script" not in shown
    assert "&lt;script&gt;" in shown  # the person sees what was written


def test_markdown_still_renders_and_safe_links_are_kept_marked_nofollow():
    shown = render(
        "# Method\n\n1. **Ask** first\n2. Then *tell*\n\n"
        "See [the guide](https://docs.example/guide) or write to [us](mailto:a@b.example).\n\n"
        "| step | what |\n|---|---|\n| 1 | ask |\n\n`code` and ~~old~~"
    )
    found = elements(shown)
    tags = [tag for tag, _ in found]
    for tag in ("h1", "ol", "li", "strong", "em", "table", "td", "code", "s"):
        assert tag in tags, (tag, shown)
    links = [attributes for tag, attributes in found if tag == "a"]
    assert [a["href"] for a in links] == ["https://docs.example/guide", "mailto:a@b.example"]
    assert all(a["rel"] == "nofollow noopener" for a in links)


def test_images_become_links_and_relative_links_into_the_console_are_dropped():
    shown = render("![chart](https://img.example/c.png) and [users](/admin/users)")
    found = elements(shown)
    assert "img" not in [tag for tag, _ in found]
    hrefs = [attributes.get("href") for tag, attributes in found if tag == "a"]
    assert hrefs == ["https://img.example/c.png", None]  # the label stays, the link goes


def test_the_front_matter_is_left_out_of_the_body():
    content = "---\nname: Tutor\nversion: 1.0.0\n---\n# Ask first\n\nOne question at a time.\n"
    assert without_front_matter(content) == "# Ask first\n\nOne question at a time.\n"
    assert without_front_matter("# No front matter\n") == "# No front matter\n"
    assert "name: Tutor" not in render(without_front_matter(content))
