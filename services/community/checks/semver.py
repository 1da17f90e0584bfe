"""Template versions: MAJOR.MINOR.PATCH, compared as numbers.

Every edit and every publication is a new immutable version that must be greater than the
last one, so the comparison must be numeric ("1.10.0" is after "1.9.0", which a string
comparison gets wrong). Only the canonical spelling is accepted: without leading zeros
("1.02.0" would be a second spelling of "1.2.0", and two spellings of one version would let
a registry hold two contents under what people read as the same number). The bound of four
digits per part is the contract's (`contracts.community.SEMVER_PATTERN`).
"""

from __future__ import annotations

import re

_CANONICAL = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})")
MAX_PART = 9999


class VersionInvalid(ValueError):
    """A version that is not MAJOR.MINOR.PATCH; its message is a sentence for people."""


def parse(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) of "1.4.0"; `VersionInvalid` for anything else."""
    match = _CANONICAL.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise VersionInvalid(
            f"{text!r} is not a version: write three whole numbers of at most four digits "
            "separated by dots and without leading zeros, such as 1.0.0"
        )
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except VersionInvalid:
        return False
    return True


def greater(a: str, b: str) -> bool:
    """Whether version `a` comes after version `b` (both must be valid)."""
    return parse(a) > parse(b)


def next_patch(version: str) -> str:
    """The version an edit gets when its author did not raise it: "1.4.2" → "1.4.3".

    Past 9999 the patch number would leave the contract's bounds; rather than invent a minor
    release on the author's behalf, that is refused and they choose the next version."""
    major, minor, patch = parse(version)
    if patch >= MAX_PART:
        raise VersionInvalid(
            f"{version} has the highest patch number there is: raise the minor version instead"
        )
    return f"{major}.{minor}.{patch + 1}"
