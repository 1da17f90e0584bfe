"""The passages an answer may cite, as the prompt numbers them ([1], [2], ...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from contracts.answers import Citation
from contracts.prompting import passage_label


@dataclass(frozen=True)
class Source:
    n: int
    document_id: str
    filename: str
    page: int
    chunk_id: str
    text: str

    @property
    def label(self) -> str:
        """How the prompt introduces the passage: `[2] (handbook.pdf, page 14)`."""
        return passage_label(self.n, self.filename, self.page)

    def citation(self) -> Citation:
        """The passage as an answer cites it (without its text)."""
        return Citation(
            n=self.n,
            document_id=self.document_id,
            filename=self.filename,
            page=self.page,
            chunk_id=self.chunk_id,
        )


def source_of(n: int, passage) -> Source:
    """Passage `n` of a prompt, from anything that carries a passage's fields: a search hit,
    or a source an answer was given (`GivenSource`)."""
    return Source(
        n=n,
        document_id=passage.document_id,
        filename=passage.filename,
        page=passage.page,
        chunk_id=passage.chunk_id,
        text=passage.text,
    )


def renumbered(sources: Sequence[Source]) -> list[Source]:
    """The same sources numbered 1..k in the order given."""
    return [replace(source, n=i) for i, source in enumerate(sources, start=1)]
