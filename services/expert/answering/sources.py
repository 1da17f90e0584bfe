"""The passages an answer may cite, as the prompt numbers them ([1], [2], ...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace


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
        return f"[{self.n}] ({self.filename}, page {self.page})"


def renumbered(sources: Sequence[Source]) -> list[Source]:
    """The same sources numbered 1..k in the order given."""
    return [replace(source, n=i) for i, source in enumerate(sources, start=1)]
