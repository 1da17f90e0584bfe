"""Hand-written examples from a JSONL file, checked line by line before any is taken.

Each non-blank line is one JSON object, in one of two forms:

- `{"question": "...", "answer": "...", "tags": ["..."]}` (`tags` optional);
- OpenAI's chat form, `{"messages": [...], "tags": [...]}`: one user message (the question)
  and one assistant message (the answer) after it, each `{"role", "content"}`; a leading
  system message is allowed and ignored, as the expert's own system prompt is used when
  the dataset is built.

No other fields are accepted, so a misspelt key is caught rather than silently dropped.
A file with any bad line imports nothing: `ManualImportError` names the first bad line and
what is wrong with it ("line 7: answer is missing"). Blank lines are skipped but counted in
line numbers, so the number matches what an editor shows. A UTF-8 byte order mark is allowed.
"""

from __future__ import annotations

import msgspec

from contracts.dataset import MAX_MANUAL, ManualExample
from contracts.rules import explain

MAX_TEXT = 20_000
FLAT_FIELDS = ("question", "answer", "tags")
CHAT_FIELDS = ("messages", "tags")
MESSAGE_FIELDS = ("role", "content")


class ManualImportError(ValueError):
    """The file cannot be imported; the message says where and why, in one line."""


def parse_manual_jsonl(data: bytes, *, max_lines: int = MAX_MANUAL) -> list[ManualExample]:
    lines = _text(data).split("\n")
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise ManualImportError("the file holds no examples")
    if len(numbered) > max_lines:
        raise ManualImportError(
            f"the file holds {len(numbered):,} examples; at most {max_lines:,} can be "
            "imported at once"
        )
    examples = []
    for n, line in numbered:
        try:
            examples.append(_example(line))
        except _BadLine as bad:
            raise ManualImportError(f"line {n}: {bad}") from None
    return examples


class _BadLine(Exception):
    pass


def _text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        n = data.count(b"\n", 0, err.start) + 1
        raise ManualImportError(f"line {n}: is not valid UTF-8 text") from None
    return text.removeprefix("\ufeff")


def _example(line: str) -> ManualExample:
    try:
        row = msgspec.json.decode(line)
    except msgspec.DecodeError as err:
        raise _BadLine(f"is not valid JSON ({err})") from None
    if not isinstance(row, dict):
        raise _BadLine('must be a JSON object with "question" and "answer"')
    if "messages" in row:
        _known(row, CHAT_FIELDS)
        question, answer = _from_messages(row["messages"])
    else:
        _known(row, FLAT_FIELDS)
        question, answer = _text_field(row, "question"), _text_field(row, "answer")
    fields = {"question": question, "answer": answer}
    if "tags" in row:
        fields["tags"] = _tags(row["tags"])
    try:
        return msgspec.convert(fields, ManualExample)
    except msgspec.ValidationError as err:
        raise _BadLine(explain(str(err))) from None


def _known(row: dict, allowed: tuple[str, ...]) -> None:
    unknown = [key for key in row if key not in allowed]
    if unknown:
        raise _BadLine(f'unknown field "{unknown[0]}" (a line may have {_listed(allowed)})')


def _text_field(row: dict, name: str, *, label: str | None = None) -> str:
    label = label or name
    if name not in row:
        raise _BadLine(f"{label} is missing")
    value = row[name]
    if not isinstance(value, str):
        raise _BadLine(f"{label} must be text")
    value = value.strip()
    if not value:
        raise _BadLine(f"{label} is empty")
    if len(value) > MAX_TEXT:
        raise _BadLine(f"{label} is {len(value):,} characters; at most {MAX_TEXT:,}")
    return value


def _tags(tags: object) -> list[str]:
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise _BadLine("tags must be a list of texts")
    return tags


def _from_messages(messages: object) -> tuple[str, str]:
    if not isinstance(messages, list):
        raise _BadLine("messages must be a list")
    for i, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            raise _BadLine(f'message {i} must be an object with "role" and "content"')
        unknown = [key for key in message if key not in MESSAGE_FIELDS]
        if unknown:
            raise _BadLine(f'message {i} has an unknown field "{unknown[0]}"')
    roles = [m.get("role") for m in messages]
    if roles and roles[0] == "system":
        messages, roles = messages[1:], roles[1:]
    if roles != ["user", "assistant"]:
        shown = ", ".join(map(str, roles)) or "none"
        raise _BadLine(
            "messages must be one user message then one assistant message "
            f"(after an optional system message), not: {shown}"
        )
    question = _text_field(messages[0], "content", label="the user message's content")
    answer = _text_field(messages[1], "content", label="the assistant message's content")
    return question, answer


def _listed(names: tuple[str, ...]) -> str:
    quoted = [f'"{name}"' for name in names]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]
