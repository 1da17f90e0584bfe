"""A version changed by one edit, deletion or addition: pure functions from the parent's
examples to the new version's (the parent is never touched)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.dataset import (
    AddExample,
    BuildSpec,
    DeleteExample,
    EditExample,
    ManualExample,
    Message,
    Sources,
    TrainingExample,
)
from services.dataset.candidates import manual_candidate
from services.dataset.split import assign


def replace(spec: BuildSpec, **changes) -> BuildSpec:
    return msgspec.structs.replace(spec, **changes)


def with_manual(sources: Sources, imported: list[ManualExample]) -> Sources:
    return msgspec.structs.replace(sources, manual=[*sources.manual, *imported])


def any_source(sources: Sources) -> bool:
    return bool(sources.knowledge or sources.traces or sources.feedback or sources.manual)


def find(examples: list[TrainingExample], example_id: str) -> int:
    for n, example in enumerate(examples):
        if example.id == example_id:
            return n
    raise DomainError(ErrorCode.NOT_FOUND, f"example {example_id} was not found in this version")


def edit(
    examples: list[TrainingExample], cmd: EditExample
) -> tuple[str, str, list[TrainingExample]]:
    n = find(examples, cmd.example_id)
    old = examples[n]
    messages = list(old.messages)
    for role, value in (("user", cmd.question), ("assistant", cmd.answer)):
        if value is None:
            continue
        if not value.strip():
            raise DomainError(
                ErrorCode.INVALID,
                f"the {'question' if role == 'user' else 'answer'} must not be empty",
            )
        messages = [Message(role=role, content=value) if m.role == role else m for m in messages]
    tags = old.tags if cmd.tags is None else cmd.tags
    changed = msgspec.structs.replace(old, messages=messages, tags=tags)
    if changed == old:
        raise DomainError(ErrorCode.INVALID, "nothing changed: send a new question, answer or tags")
    return "edited", old.id, [*examples[:n], changed, *examples[n + 1 :]]


def delete(
    examples: list[TrainingExample], cmd: DeleteExample
) -> tuple[str, str, list[TrainingExample]]:
    n = find(examples, cmd.example_id)
    return "deleted", cmd.example_id, [*examples[:n], *examples[n + 1 :]]


def add(
    examples: list[TrainingExample], cmd: AddExample, *, system: str, seed: int
) -> tuple[str, str, list[TrainingExample]]:
    m = cmd.example
    if not m.question.strip() or not m.answer.strip():
        raise DomainError(ErrorCode.INVALID, "a new example needs a question and an answer")
    candidate = manual_candidate(m, system, f"manual-{len(examples)}-{m.question[:40]}")
    [added] = assign([candidate], seed)
    if any(e.id == added.id for e in examples):
        raise DomainError(ErrorCode.CONFLICT, "this version already has that example")
    return "added", added.id, [*examples, added]


def check_length(
    examples: list[TrainingExample], example_id: str, count: Callable[[str], int], limit: int
) -> None:
    """The changed example must still fit the model (the other examples already did)."""
    for example in examples:
        if example.id == example_id:
            tokens = sum(count(m.content) + 4 for m in example.messages)
            if tokens > limit:
                raise DomainError(
                    ErrorCode.INVALID,
                    f"the example would be {tokens:,} tokens; the model takes {limit:,}",
                )
