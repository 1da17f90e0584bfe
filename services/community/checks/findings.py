"""What a check found, and how to show it without repeating what it found.

A finding names the line (1-based, counting "\n" as editors do, front matter included) and
the pattern, so a person can go straight to it; its excerpt is masked, because the refusal
travels further than the template ever did — into replies, logs and screens — and a check
that stops a secret from being published must not publish it in its own message.
"""

from __future__ import annotations

from dataclasses import dataclass

MASK = "*"


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    pattern: str  # what was found, in words: "e-mail address", "hidden Unicode", ...
    excerpt_masked: str

    @property
    def kind(self) -> str:
        """The unusual-pattern checks call their pattern a kind; it is the same field."""
        return self.pattern

    def sentence(self) -> str:
        """ "line 12: e-mail address (a***@e***.org)": one finding as people read it."""
        excerpt = f" ({self.excerpt_masked})" if self.excerpt_masked else ""
        return f"line {self.line}: {self.pattern}{excerpt}"


def lines_of(text: str) -> list[str]:
    """The text's lines as an editor numbers them: split on "\n" only (not on the form feeds,
    separators and other breaks `str.splitlines` also honours), without a trailing "\r"."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def mask(value: str, *, head: int = 2, tail: int = 2) -> str:
    """`value` with all but at most `head` leading and `tail` trailing letters or digits
    replaced by `*`; separators stay, so the shape can still be recognised.

    At most a quarter of the letters and digits are ever shown, so a short value (a
    nine-digit id) keeps fewer than a long one (a card number)."""
    positions = [i for i, char in enumerate(value) if char.isalnum()]
    shown = len(positions) // 4
    head = min(head, shown - min(tail, shown // 2))
    tail = min(tail, shown - head)
    keep = set(positions[:head]) | set(positions[len(positions) - tail :] if tail else [])
    return "".join(
        char if i in keep or not char.isalnum() else MASK for i, char in enumerate(value)
    )


def shorten(value: str, limit: int = 60) -> str:
    """An excerpt that is not secret but may be long (a URL): its start and an ellipsis."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
