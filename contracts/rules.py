"""The rules every field of every contract obeys, declared once as msgspec constraints.

Nothing reaches the event log unless it can be stored and shown everywhere later: an
event that a projection cannot write (Postgres refuses NUL in text and jsonb) would stop
that projection for good. So every command and query field is one of these types, and
msgspec enforces them wherever a contract is decoded: in the gateway (the OpenAPI schema
shows them) and in a service reached directly over NATS.

- `Token`: ids and tenants, which become tokens of NATS subjects (`evt.<ctx>.<tenant>.
  <aggregate>.<id>`): letters, digits, `-` and `_` only, so no id can be a wildcard
  (`*`, `>`), contain a dot or be empty.
- `line(n)`: a one-line text (a name, a file name, a search query), no control characters.
- `prose(n)`: text that may run over lines: tab, line feed and carriage return allowed,
  no other control characters.
- `items(t, n)`: a list of at most n items.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from msgspec import Meta

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
PROSE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
OBJECT_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}){1,4}$"

# What each rule means, in the words a person reads in a 400.
RULES = {
    TOKEN_PATTERN: "must be 1 to 64 letters, digits, '-' or '_'",
    NO_CONTROL_PATTERN: "must not contain control characters (such as NUL or a line break)",
    PROSE_PATTERN: "must not contain control characters such as NUL (tab and new lines are fine)",
    SHA256_PATTERN: "must be a sha256 digest: 64 lowercase hexadecimal digits",
    OBJECT_NAME_PATTERN: "must be an object name: tokens separated by '/'",
}

Token = Annotated[
    str,
    Meta(pattern=TOKEN_PATTERN, description="An id: 1 to 64 letters, digits, '-' or '_'."),
]
Sha256 = Annotated[str, Meta(pattern=SHA256_PATTERN)]
ObjectName = Annotated[str, Meta(pattern=OBJECT_NAME_PATTERN, max_length=400)]
Count = Annotated[int, Meta(ge=0, le=2**53 - 1)]

_TOKEN = re.compile(TOKEN_PATTERN)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def line(max_length: int, *, min_length: int = 0) -> Any:
    """A one-line text of at most `max_length` characters."""
    return Annotated[
        str, Meta(min_length=min_length, max_length=max_length, pattern=NO_CONTROL_PATTERN)
    ]


def prose(max_length: int) -> Any:
    """Text that may span lines, of at most `max_length` characters."""
    return Annotated[str, Meta(max_length=max_length, pattern=PROSE_PATTERN)]


def items(item: Any, max_items: int) -> Any:
    """A list of at most `max_items` items."""
    return Annotated[list[item], Meta(max_length=max_items)]


def is_token(value: object) -> bool:
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def clean_text(text: str) -> str:
    """Text from outside (a document, a file name) made fit for the log: control characters
    other than tab and line breaks removed, and unpaired surrogates replaced."""
    text = _CONTROL.sub("", text)
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


_MSGSPEC_PATTERN = re.compile(r"Expected `str` matching regex '(?P<pattern>.*)'")
_MSGSPEC_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def violated_pattern(message: str) -> str | None:
    """The pattern a msgspec validation message says a value failed to match, if any."""
    match = _MSGSPEC_PATTERN.match(message)
    return match.group("pattern").encode().decode("unicode_escape") if match else None


def explain(message: str) -> str:
    """A msgspec validation message in plain words, naming the field and the rule.

    `Expected `str` matching regex '^[A-Za-z0-9_-]{1,64}$' - at `$.expert_id`` becomes
    `expert_id must be 1 to 64 letters, digits, '-' or '_'`.
    """
    path_match = _MSGSPEC_PATH.search(message)
    path = path_match.group("path") if path_match else ""
    head = message[: path_match.start()] if path_match else message
    pattern = violated_pattern(head)
    head = RULES.get(pattern, head) if pattern else _plain_bounds(head)
    return f"{path} {head}" if path else head


_BOUNDS = (
    (re.compile(r"Expected `str` of length >= (1)$"), "must not be empty"),
    (re.compile(r"Expected `str` of length <= (\d+)"), "must be at most {} characters"),
    (re.compile(r"Expected `str` of length >= (\d+)"), "must be at least {} characters"),
    (re.compile(r"Expected `array` of length <= (\d+)"), "may list at most {} items"),
    (re.compile(r"Expected `int` <= (-?\d+)"), "must be at most {}"),
    (re.compile(r"Expected `int` >= (-?\d+)"), "must be at least {}"),
)


def _plain_bounds(head: str) -> str:
    for regex, words in _BOUNDS:
        match = regex.match(head)
        if match:
            return words.format(match.group(1))
    return head[:1].lower() + head[1:] if head else head
