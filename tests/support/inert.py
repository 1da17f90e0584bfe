"""Is a page inert: does it hold nothing a browser would run that the console did not put
there itself? Parsed as a browser parses it (the standard library's HTML parser), not
searched for strings, so an attack shown as text (`&lt;script&gt;`) passes and one that
became markup fails."""

from __future__ import annotations

from html.parser import HTMLParser

# The console's own scripts: every page loads these by `src`, none inline.
OWN_SCRIPT = "/static/"
ACTIVE_TAGS = frozenset({"iframe", "object", "embed", "svg", "math", "img", "base", "frame"})
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data"})
OWN_ICON = ("link", "href", "data:,")  # base.html's empty favicon (no request for one)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith(OWN_SCRIPT):
            self.found.append(f"<script> without a src under {OWN_SCRIPT}")
        if tag in ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.found.append("<meta http-equiv=refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES and value and (tag, name, value) != OWN_ICON:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:")):
                    self.found.append(f"<{tag} {name}={value[:40]!r}>")


def active_parts(page: str) -> list[str]:
    """What in `page` would run or load in a browser beyond the console's own scripts."""
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector.found
