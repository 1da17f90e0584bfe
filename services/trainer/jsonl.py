"""The examples of a chat JSONL file, one a line, numbered as people number them.

Both checks of a training file (the hosted provider's, before an upload, and the local
training process's) name a bad line by its number, and a person opens the file in an editor
to find it: so blank lines are skipped but still counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import AnyStr


def numbered_examples(text: AnyStr) -> Iterator[tuple[int, AnyStr]]:
    """Each line that is not blank, with its 1-based line number."""
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            yield number, raw
