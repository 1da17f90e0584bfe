"""Hypothesis strategies read off the contracts themselves, so a new contract is covered as
soon as it exists: every value drawn obeys the contract's msgspec constraints, and
reaches for their edges (the longest text allowed, the most items, any Unicode a person
could type, tabs and new lines where prose allows them).
"""

from __future__ import annotations

import base64

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

from contracts.accounts import B64URL_PATTERN, EMAIL_PATTERN, RP_ID_PATTERN
from contracts.community import BASE64_PATTERN, SEMVER_PATTERN
from contracts.rules import (
    NO_CONTROL_PATTERN,
    OBJECT_NAME_PATTERN,
    PROSE_PATTERN,
    SHA256_PATTERN,
    TOKEN_PATTERN,
)

# Patterns whose values are drawn from the pattern itself (ids, digests, addresses, WebAuthn's
# base64url and relying-party ids).
REGEX_DRAWN = (
    TOKEN_PATTERN,
    SHA256_PATTERN,
    OBJECT_NAME_PATTERN,
    EMAIL_PATTERN,
    B64URL_PATTERN,
    RP_ID_PATTERN,
    SEMVER_PATTERN,
    BASE64_PATTERN,
)
SHORT = 40  # most drawn texts and lists are short; some go to the limit
LONGEST_DRAWN = 8_000  # longer texts at the limit are built, not drawn
MAX_DRAWN_ITEMS = 8
_CONTROL = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]


def _characters(*, allow: str = "") -> st.SearchStrategy[str]:
    excluded = [c for c in _CONTROL if c not in allow]
    return st.characters(exclude_categories=("Cs",), exclude_characters=excluded)


def _text(t: mi.StrType) -> st.SearchStrategy[str]:
    if t.pattern in REGEX_DRAWN:
        drawn = st.from_regex(t.pattern, fullmatch=True)
        return drawn.filter(lambda s: len(s) <= t.max_length) if t.max_length else drawn
    assert t.pattern in (None, NO_CONTROL_PATTERN, PROSE_PATTERN), f"no strategy for {t.pattern}"
    if t.pattern is None:  # the contract accepts anything, so anything is drawn
        chars = st.characters(exclude_categories=("Cs",))
    else:
        chars = _characters(allow="\t\n\r" if t.pattern == PROSE_PATTERN else "")
    low, high = t.min_length or 0, t.max_length if t.max_length is not None else 10_000
    short = st.text(chars, min_size=low, max_size=min(high, max(low, SHORT)))
    if high <= LONGEST_DRAWN:
        at_limit = st.text(chars, min_size=high, max_size=high)
    else:  # Hypothesis draws no text this long: a short one repeated to the limit
        at_limit = st.text(chars, min_size=1, max_size=SHORT).map(lambda t: (t * high)[:high])
    return st.one_of(short, short, short, at_limit)


def _integer(t: mi.IntType) -> st.SearchStrategy[int]:
    low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -(2**31))
    high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else 2**31)
    return st.one_of(st.integers(low, min(high, low + 1000)), st.sampled_from([low, high]))


def _float(t: mi.FloatType) -> st.SearchStrategy[float]:
    low = t.ge if t.ge is not None else t.gt
    high = t.le if t.le is not None else t.lt
    floats = st.floats(
        low, high, exclude_min=t.gt is not None, exclude_max=t.lt is not None, allow_nan=False
    )
    edges = [x for x in (t.ge, t.le) if x is not None]
    return st.one_of(floats, st.sampled_from(edges)) if edges else floats


def _list(t: mi.ListType) -> st.SearchStrategy[list]:
    item = strategy(t.item_type)
    high = t.max_length if t.max_length is not None else MAX_DRAWN_ITEMS
    lists = [st.lists(item, max_size=min(high, MAX_DRAWN_ITEMS))]
    if high <= 100:
        lists.append(st.lists(item, min_size=high, max_size=high))
    return st.one_of(*lists)


def _struct(t: mi.StructType) -> st.SearchStrategy:
    required, optional = {}, {}
    for f in t.fields:
        if f.name == "type":
            continue
        values = strategy(f.type)
        (required if f.required else optional)[f.name] = values
    return st.fixed_dictionaries(required, optional=optional).map(lambda kw: t.cls(**kw))


def strategy(t: mi.Type) -> st.SearchStrategy:
    """Values of the msgspec type `t` that its constraints accept."""
    match t:
        case mi.StrType():
            return _text(t)
        case mi.IntType():
            return _integer(t)
        case mi.FloatType():
            return _float(t)
        case mi.BoolType():
            return st.booleans()
        case mi.NoneType():
            return st.none()
        case mi.LiteralType():
            return st.sampled_from(t.values)
        case mi.ListType():
            return _list(t)
        case mi.StructType():
            return _struct(t)
        case mi.UnionType():
            return st.one_of(*[strategy(x) for x in t.types])
        case mi.Metadata():
            return strategy(t.type)
    raise TypeError(f"no strategy for {t!r}")


def contract(cls: type[msgspec.Struct], **fixed: st.SearchStrategy) -> st.SearchStrategy:
    """Instances of a contract; `fixed` overrides the strategy of some fields (ids that must
    name something that exists, for instance)."""
    t = mi.type_info(cls)
    fields = {f.name: strategy(f.type) for f in t.fields if f.name != "type"}
    fields.update(fixed)
    required = {f.name: fields[f.name] for f in t.fields if f.required or f.name in fixed}
    optional = {n: s for n, s in fields.items() if n not in required}
    return st.fixed_dictionaries(required, optional=optional).map(lambda kw: cls(**kw))


def minimal(t: mi.Type) -> object:
    """The simplest JSON value of type `t` that its constraints accept."""
    match t:
        case mi.StrType(pattern=p) if p in (
            TOKEN_PATTERN,
            B64URL_PATTERN,
            RP_ID_PATTERN,
            BASE64_PATTERN,
        ):
            return "a"
        case mi.StrType(pattern=p) if p == SEMVER_PATTERN:
            return "1.0.0"
        case mi.StrType(pattern=p) if p == SHA256_PATTERN:
            return "0" * 64
        case mi.StrType(pattern=p) if p == OBJECT_NAME_PATTERN:
            return "a/b"
        case mi.StrType(pattern=p) if p == EMAIL_PATTERN:
            return "a@b.co"
        case mi.StrType():
            return "x" * max(t.min_length or 0, 1)
        case mi.IntType():
            return t.ge if t.ge is not None else 0
        case mi.BytesType():  # base64 in JSON
            return base64.b64encode(bytes(max(t.min_length or 0, 1))).decode("ascii")
        case mi.BoolType():
            return False
        case mi.LiteralType():
            return t.values[0]
        case mi.ListType():
            return [minimal(t.item_type)] * (t.min_length or 0)
        case mi.FloatType():
            return t.ge if t.ge is not None else (t.gt + 0.5 if t.gt is not None else 0.0)
        case mi.UnionType():
            return minimal(t.types[0])
        case mi.Metadata():
            return minimal(t.type)
        case mi.StructType():
            return {f.encode_name: minimal(f.type) for f in t.fields if f.required}
    raise TypeError(f"no minimal value for {t!r}")


def text_fields(cls: type[msgspec.Struct]) -> list[tuple[str, ...]]:
    """Paths to every text and list field of a contract, nested structs included."""
    return _paths(mi.type_info(cls), ())


def _paths(t: mi.Type, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    match t:
        case mi.StructType():
            found = []
            for f in t.fields:
                if f.name != "type":
                    found += _paths(f.type, (*prefix, f.name))
            return found
        case mi.UnionType():
            found = []
            for x in t.types:
                found += [p for p in _paths(x, prefix) if p not in found]
            return found
        case mi.Metadata():
            return _paths(t.type, prefix)
        case mi.StrType() | mi.ListType():
            return [prefix]
    return []
