"""A template's YAML front matter, read and checked, with every refusal naming its line.

A template is Markdown that starts with a block of YAML between two `---` lines:

    ---
    name: Differential diagnosis
    description: Reason from symptoms to ranked causes, citing the evidence for each.
    domain: medicine
    methodology: hypothetico-deductive
    keywords: [diagnosis, triage]
    version: 1.0.0
    ---
    When you answer, ...

All six fields are required: search, listings and the update check all rely on them, and a
template that cannot say what it is for cannot be found. Mistakes are the author's to fix in
an editor, so each refusal (`TemplateInvalid`) names the line to go to.

The YAML is composed, not loaded: values are taken as written, so `version: 1.0` is the
text "1.0" (refused as not a version, rather than silently the number 1.0) and `name: yes`
is the name "yes", not True; only the safe loader is used, so no tag can build an object.
Keywords may be a YAML list or one comma-separated line. Unknown fields are refused rather
than ignored, since a misspelt field ("keyword:") would otherwise vanish without a word.
The result is converted to the contract's `FrontMatter`, whose limits are the final word.
"""

from __future__ import annotations

import re

import msgspec
import yaml

from contracts.base import DomainError, ErrorCode
from contracts.community.values import FrontMatter
from services.community.checks import semver

FENCE = "---"
FIELDS = ("name", "description", "domain", "methodology", "keywords", "version")
LIMITS = {"name": 80, "description": 300, "domain": 80, "methodology": 80}
MAX_KEYWORDS = 12
MAX_KEYWORD_CHARS = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NULL_TAG = "tag:yaml.org,2002:null"


class TemplateInvalid(DomainError):
    """A template that cannot be saved or published as it is: `line` (1-based, in the whole
    template) and a `message` that says what to change there."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(ErrorCode.INVALID, f"Line {line}: {message}")
        self.line, self.message = line, message


def parse(text: str) -> tuple[FrontMatter, str]:
    """(front matter, body): the body is everything after the closing `---` line."""
    lines = text.split("\n")
    if lines[0].removeprefix("\ufeff").rstrip() != FENCE:
        raise TemplateInvalid(
            1,
            "a template starts with its front matter: a line '---', the fields "
            f"{', '.join(FIELDS)} (one 'field: value' a line), and another line '---'",
        )
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == FENCE), None)
    if close is None:
        raise TemplateInvalid(
            1, "the front matter that starts here is never closed by a line '---'"
        )
    mapping = _compose("\n".join(lines[1:close]), close)
    fields, where = _fields(mapping)
    missing = [field for field in FIELDS if field not in fields]
    if missing:
        raise TemplateInvalid(
            close + 1,
            f"the front matter has no {missing[0]}: add a line '{missing[0]}: …' above this one",
        )
    front_matter = _contract(fields, where)
    body = "\n".join(lines[close + 1 :])
    if not body.strip():
        raise TemplateInvalid(
            min(close + 2, len(lines)), "the template has no content after its front matter"
        )
    return front_matter, body


def _compose(block: str, close: int) -> yaml.MappingNode:
    try:
        node = yaml.compose(block, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        # A bracket or quote left open is noticed lines later; the line it opened on is the
        # one to fix, so that is the line named when YAML gives one.
        problem = error.problem or "it cannot be read"
        if error.context_mark is not None and error.context:
            line = error.context_mark.line + 2
            problem = (
                f"{error.context} that starts here, {problem} (line {error.problem_mark.line + 2})"
            )
        else:
            line = error.problem_mark.line + 2 if error.problem_mark is not None else 2
        raise TemplateInvalid(
            min(line, close), f"the front matter is not valid YAML: {problem}"
        ) from None
    except yaml.YAMLError:
        raise TemplateInvalid(2, "the front matter is not valid YAML") from None
    if node is None:
        raise TemplateInvalid(1, f"the front matter is empty: it needs {', '.join(FIELDS)}")
    if not isinstance(node, yaml.MappingNode):
        raise TemplateInvalid(
            node.start_mark.line + 2, "the front matter is fields, one 'field: value' a line"
        )
    return node


def _fields(mapping: yaml.MappingNode) -> tuple[dict[str, object], dict[str, int]]:
    fields: dict[str, object] = {}
    where: dict[str, int] = {}
    for key_node, value_node in mapping.value:
        line = key_node.start_mark.line + 2
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in FIELDS:
            shown = f"'{key}'" if isinstance(key, str) else "there"
            raise TemplateInvalid(
                line, f"unknown field {shown}: the fields are {', '.join(FIELDS)}"
            )
        if key in where:
            raise TemplateInvalid(line, f"{key} is given twice (first on line {where[key]})")
        where[key] = line
        fields[key] = (
            _keywords(value_node, line) if key == "keywords" else _text(key, value_node, line)
        )
    return fields, where


def _text(key: str, node: yaml.Node, line: int) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise TemplateInvalid(line, f"{key} must be text on one line, not a list or a mapping")
    value = "" if node.tag == _NULL_TAG else node.value.strip()
    if key == "version":
        try:
            semver.parse(value)
        except semver.VersionInvalid as error:
            raise TemplateInvalid(line, f"version: {error}") from None
        return value
    if not value:
        raise TemplateInvalid(line, f"{key} is empty")
    if "\n" in value or _CONTROL.search(value):
        raise TemplateInvalid(line, f"{key} must be one line of text without control characters")
    if len(value) > LIMITS[key]:
        raise TemplateInvalid(
            line, f"{key} has {len(value)} characters, at most {LIMITS[key]} are allowed"
        )
    return value


def _keywords(node: yaml.Node, line: int) -> list[str]:
    if isinstance(node, yaml.SequenceNode):
        items = []
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode):
                raise TemplateInvalid(item.start_mark.line + 2, "each keyword must be plain text")
            items.append((item.value.strip(), item.start_mark.line + 2))
    elif isinstance(node, yaml.ScalarNode):
        raw = "" if node.tag == _NULL_TAG else node.value
        items = [(part.strip(), line) for part in raw.split(",")]
    else:
        raise TemplateInvalid(line, "keywords are a list, such as [diagnosis, triage]")
    keywords: list[str] = []
    for keyword, at in items:
        if not keyword:
            if len(items) == 1:
                break
            raise TemplateInvalid(at, "a keyword is empty")
        if "\n" in keyword or _CONTROL.search(keyword):
            raise TemplateInvalid(at, f"the keyword '{keyword[:40]}' must be one line of text")
        if len(keyword) > MAX_KEYWORD_CHARS:
            raise TemplateInvalid(
                at, f"the keyword '{keyword[:40]}…' is longer than {MAX_KEYWORD_CHARS} characters"
            )
        if keyword.casefold() not in {k.casefold() for k in keywords}:
            keywords.append(keyword)
    if not keywords:
        raise TemplateInvalid(line, "keywords are empty: give at least one")
    if len(keywords) > MAX_KEYWORDS:
        raise TemplateInvalid(line, f"{len(keywords)} keywords, at most {MAX_KEYWORDS} are allowed")
    return keywords


def _contract(fields: dict[str, object], where: dict[str, int]) -> FrontMatter:
    try:
        return msgspec.convert(fields, FrontMatter)
    except msgspec.ValidationError as error:
        # "Expected `str` of length <= 80 - at `$.name`": name the field's line.
        found = re.search(r"\$\.(\w+)", str(error))
        field = found.group(1) if found else "name"
        raise TemplateInvalid(where.get(field, 1), f"{field}: {error}") from None
