"""The dataset forms as typed (every field a string; a ticked box is "on") and the commands
they become, with a plain sentence for each mistake.

Hand-written examples come in one of two forms, told apart by the first line: JSON lines
(`{"question": ..., "answer": ...}`, checked line by line by the dataset service), or pairs
of `Q:` and `A:` lines, read here. A question or answer may go on over several lines.
"""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.dataset import (
    DEFAULT_MAX_EXAMPLES,
    MAX_EXAMPLES,
    MAX_MANUAL,
    BuildDataset,
    BuildSpec,
    KnowledgeSource,
    ManualExample,
    Sources,
    TracesSource,
)

GENERATORS = (
    ("auto", "Automatic", "Your model writes them if one is set up, otherwise offline."),
    ("offline", "Offline", "The answers are your documents' own sentences; fast, no model."),
    ("backend", "My model", "The model in your model settings writes each question and answer."),
)
NO_EXAMPLES = "Write at least one example, or untick “Examples I write”."


def invalid(detail: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, detail)


def tag_list(text: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def number(text: str, name: str, low: float, high: float, *, whole: bool = True) -> float:
    kind = "a whole number" if whole else "a number"
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise invalid(f"{name} must be {kind} from {low:g} to {high:g}.")
    return value


def qa_pairs(text: str) -> list[ManualExample]:
    """`Q:` / `A:` pairs; a mistake names its line, as an editor numbers it."""
    pairs: list[list[str]] = []
    expect = "Q"
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        head = line[:2].upper()
        if head in ("Q:", "A:"):
            if head[0] != expect:
                wanted = "a question (Q:)" if expect == "Q" else "its answer (A:)"
                raise invalid(f"Examples I write, line {n}: expected {wanted} here.")
            if expect == "Q":
                pairs.append([line[2:].strip(), ""])
            else:
                pairs[-1][1] = line[2:].strip()
            expect = "A" if expect == "Q" else "Q"
        elif line and not pairs:
            raise invalid(f"Examples I write, line {n}: start each example with “Q:”.")
        elif line:
            part = 0 if expect == "A" else 1
            pairs[-1][part] = f"{pairs[-1][part]}\n{line}".strip()
    if pairs and expect == "A":
        raise invalid(f"Examples I write: the last question (“{pairs[-1][0][:60]}”) has no answer.")
    if len(pairs) > MAX_MANUAL:
        raise invalid(f"Examples I write: at most {MAX_MANUAL} examples at once.")
    return [ManualExample(question=q, answer=a) for q, a in pairs]


class BuildForm(msgspec.Struct, kw_only=True):
    knowledge: str = ""
    questions: str = "100"
    generator: str = "auto"
    traces: str = ""
    min_quality: str = "8"
    min_rating: str = "4"
    feedback: str = ""
    manual: str = ""
    manual_text: str = ""
    max_examples: str = str(DEFAULT_MAX_EXAMPLES)
    seed: str = "0"

    @classmethod
    def first(cls) -> BuildForm:
        """The form as a page first shows it: documents, good answers and edits ticked."""
        return cls(knowledge="on", traces="on", feedback="on")

    def command(self, expert_id: str) -> BuildDataset:
        manual, jsonl = self.manual_examples()
        sources = Sources(
            knowledge=self.knowledge_source(),
            traces=self.traces_source(),
            feedback=bool(self.feedback),
            manual=manual,
        )
        spec = BuildSpec(
            sources=sources,
            max_examples=int(number(self.max_examples, "Max examples", 1, MAX_EXAMPLES)),
            seed=int(number(self.seed, "The seed", 0, 2**31 - 1)),
        )
        return BuildDataset(expert_id=expert_id, spec=spec, manual_jsonl=jsonl)

    def knowledge_source(self) -> KnowledgeSource | None:
        if not self.knowledge:
            return None
        if self.generator not in {value for value, _, _ in GENERATORS}:
            raise invalid("Choose who writes the questions: automatic, offline or my model.")
        questions = number(self.questions, "The number of questions", 1, MAX_EXAMPLES)
        return KnowledgeSource(questions=int(questions), generator=self.generator)  # type: ignore[arg-type]

    def traces_source(self) -> TracesSource | None:
        if not self.traces:
            return None
        quality = number(self.min_quality, "The lowest quality score", 0, 10, whole=False)
        rating = number(self.min_rating, "The lowest rating", 1, 5)
        return TracesSource(min_quality=quality, min_rating=int(rating))

    def manual_examples(self) -> tuple[list[ManualExample], str | None]:
        """The hand-written examples: Q/A pairs read here, or JSON lines for the service."""
        if not self.manual:
            return [], None
        text = self.manual_text.replace("\r\n", "\n")
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if not first:
            raise invalid(NO_EXAMPLES)
        if first.startswith("{"):
            return [], text
        return qa_pairs(text), None


class ExampleForm(msgspec.Struct, kw_only=True):
    """An example as typed in the edit or add form."""

    question: str = ""
    answer: str = ""
    tags: str = ""  # comma-separated

    def example(self) -> ManualExample:
        question, answer = self.question.strip(), self.answer.replace("\r\n", "\n").strip()
        if not question or not answer:
            raise invalid("Write both a question and an answer.")
        return ManualExample(question=question, answer=answer, tags=tag_list(self.tags))
