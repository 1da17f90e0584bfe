"""Where each kind of personal datum or secret stands in a line, one detector a kind.

A detector takes one line and yields a `Hit` (start and end column, the pattern's name, a
masked excerpt) for every candidate its pattern finds AND its check digit or shape rule
accepts; the grammar of each pattern and the reasons for its edges are described in
`services.community.checks.pii`. `DETECTORS` is ordered most specific first, because where
two cover the same characters the scanner keeps only the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from contracts.accounts.values import KEY_PREFIX
from services.community.checks import check_digits
from services.community.checks.findings import MASK, mask

Hit = tuple[int, int, str, str]  # start, end, pattern, masked excerpt
_NOT_WORD_BEFORE = r"(?<![A-Za-z0-9_])"


# -- API keys and private keys ------------------------------------------------------------

_KEY_SHAPES: list[tuple[str, str, re.Pattern[str]]] = [
    (
        "private key",
        "",
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    ),
    (
        "Simtune API key",
        KEY_PREFIX,
        re.compile(r"(?<![A-Za-z0-9_-])" + re.escape(KEY_PREFIX) + r"[A-Za-z0-9_-]{20,}"),
    ),
    ("API key (sk-…)", "sk-", re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}")),
    (
        "Stripe secret key",
        "sk_",
        re.compile(_NOT_WORD_BEFORE + r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ),
    (
        "GitHub token",
        "gh",
        re.compile(
            _NOT_WORD_BEFORE + r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,})"
        ),
    ),
    (
        "AWS access key id",
        "",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ),
    ("Slack token", "xox", re.compile(_NOT_WORD_BEFORE + r"xox[aboprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", "AIza", re.compile(_NOT_WORD_BEFORE + r"AIza[0-9A-Za-z_-]{35}")),
    ("Hugging Face token", "hf_", re.compile(_NOT_WORD_BEFORE + r"hf_[A-Za-z0-9]{30,}")),
    (
        "JSON Web Token",
        "eyJ",
        re.compile(
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
        ),
    ),
]


def _keys(line: str) -> Iterator[Hit]:
    for pattern, prefix, shape in _KEY_SHAPES:
        for match in shape.finditer(line):
            value = match.group()
            if pattern == "private key":
                yield match.start(), match.end(), pattern, value  # the header is not the key
                continue
            secret = value.split("_", 2)[-1] if pattern == "Stripe secret key" else value
            if not (any(c.isdigit() for c in secret) and any(c.isalpha() for c in secret)):
                continue
            shown = prefix if prefix and value.startswith(prefix) else value[:4]
            yield match.start(), match.end(), pattern, shown + MASK * 8


# -- IBAN -----------------------------------------------------------------------------------

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}")


def _ibans(line: str) -> Iterator[Hit]:
    for match in _IBAN.finditer(line):
        # The pattern runs on into a following word or number; try the candidate lengths
        # from the longest down, ending where the text ends or a space follows.
        positions = [match.start() + i for i, c in enumerate(match.group()) if c != " "]
        known = check_digits.IBAN_LENGTHS.get(match.group()[:2])
        lengths = [known] if known else range(min(34, len(positions)), 14, -1)
        for length in lengths:
            if length > len(positions):
                continue
            end = positions[length - 1] + 1
            if end < len(line) and line[end].isalnum():
                continue
            compact = "".join(line[p] for p in positions[:length])
            if check_digits.iban_valid(compact):
                yield match.start(), end, "IBAN", mask(line[match.start() : end], head=4)
                break


# -- card numbers ------------------------------------------------------------------------

_DIGIT_RUN = re.compile(
    r"(?<![A-Za-z0-9_])(?<![0-9][.,])[0-9]+(?:[ -][0-9]+)*(?![A-Za-z0-9_]|[.,][0-9])"
)


def _groups(run: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each group of a digit run, start and end in line columns."""
    return [(offset + m.start(), offset + m.end(), m.group()) for m in re.finditer(r"[0-9]+", run)]


def _cards(line: str) -> Iterator[Hit]:
    for run in _DIGIT_RUN.finditer(line):
        groups = _groups(run.group(), run.start())
        used_until = -1
        for i in range(len(groups)):
            if groups[i][0] < used_until:
                continue
            windows, digits = [], 0
            for j in range(i, len(groups)):  # at most 19 digits: a few groups at a time
                digits += len(groups[j][2])
                if digits > 19:
                    break
                if digits >= 13:
                    windows.append(groups[i : j + 1])
            for window in reversed(windows):  # the longest first
                if _card(line, window):
                    start, end = window[0][0], window[-1][1]
                    yield start, end, "card number", mask(line[start:end])
                    used_until = end
                    break


def _card(line: str, window: list[tuple[int, int, str]]) -> bool:
    digits = "".join(group[2] for group in window)
    if digits[0] not in "23456" or len(set(digits)) == 1:
        return False
    if len(window) > 1:
        if any(not 3 <= len(group[2]) <= 6 for group in window):
            return False
        if all(re.fullmatch(r"(?:19|20)[0-9]{2}", group[2]) for group in window):
            return False  # a row of years ("2017 2018 2019 2020"), not a card
        if len({line[a[1]] for a, _ in zip(window, window[1:], strict=False)}) != 1:
            return False
    return check_digits.luhn_valid(digits)


# -- national ids --------------------------------------------------------------------------

_SSN = re.compile(r"(?<![A-Za-z0-9_-])([0-9]{3})-([0-9]{2})-([0-9]{4})(?![A-Za-z0-9_]|-[0-9])")
_NINO = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?([A-D])(?![A-Za-z0-9])"
)
_NINO_RESERVED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_NIR = re.compile(
    r"(?<![A-Za-z0-9])([12]) ?([0-9]{2}) ?([0-9]{2}) ?(2[AB]|[0-9]{2}) ?([0-9]{3}) ?([0-9]{3}) ?([0-9]{2})(?![A-Za-z0-9])"
)
_DE_TAX = re.compile(
    r"(?<![A-Za-z0-9_])(?<![0-9][.,])([1-9][0-9]) ?([0-9]{3}) ?([0-9]{3}) ?([0-9]{3})(?![A-Za-z0-9_]|[.,][0-9])"
)
_DNI = re.compile(r"(?<![A-Za-z0-9])(?:([XYZ])[- ]?)?([0-9]{7,8})[- ]?([A-Z])(?![A-Za-z0-9])")
_CF_DIGIT = "[0-9LMNPQRSTUV]"
_CODICE_FISCALE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Z]{{6}}{_CF_DIGIT}{{2}}[ABCDEHLMPRST]{_CF_DIGIT}{{2}}[A-Z]{_CF_DIGIT}{{3}}[A-Z](?![A-Za-z0-9])"
)


def _national_ids(line: str) -> Iterator[Hit]:
    for match in _SSN.finditer(line):
        if check_digits.ssn_valid(*match.groups()):
            yield match.start(), match.end(), "US Social Security number", mask(match.group())
    for match in _NINO.finditer(line):
        if match.group(1) not in _NINO_RESERVED:
            yield match.start(), match.end(), "UK National Insurance number", mask(match.group())
    for match in _NIR.finditer(line):
        if check_digits.nir_valid("".join(match.groups())):
            yield match.start(), match.end(), "French NIR (INSEE number)", mask(match.group())
    for match in _DE_TAX.finditer(line):
        if check_digits.de_tax_id_valid("".join(match.groups())):
            yield match.start(), match.end(), "German tax id", mask(match.group())
    for match in _DNI.finditer(line):
        if check_digits.dni_valid(match.group(1) or "", match.group(2), match.group(3)):
            yield match.start(), match.end(), "Spanish DNI/NIE", mask(match.group())
    for match in _CODICE_FISCALE.finditer(line):
        if check_digits.codice_fiscale_valid(match.group()):
            yield match.start(), match.end(), "Italian codice fiscale", mask(match.group())


# -- e-mail ------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]+)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+)([A-Za-z]{2,24})(?![A-Za-z0-9-])"
)


def _emails(line: str) -> Iterator[Hit]:
    for match in _EMAIL.finditer(line):
        local, domain, tld = match.groups()
        excerpt = f"{local[0]}{MASK * 3}@{domain[0]}{MASK * 3}.{tld}"
        yield match.start(), match.end(), "e-mail address", excerpt


# -- phone numbers -----------------------------------------------------------------------

_SEP = r"[ .\-/]"
_INTERNATIONAL = re.compile(
    rf"(?<![A-Za-z0-9_+.])(?<![0-9][ .\-/])(\+|00)[1-9][0-9]{{0,3}}(?:{_SEP}?(?:\([0-9]{{1,4}}\)|[0-9]{{1,6}})){{1,6}}(?![0-9]|[.\-/][0-9])"
)
_NORTH_AMERICAN = re.compile(
    r"(?<![A-Za-z0-9_.+/-])(?<![0-9][ .\-/])(?:\(([2-9][0-9]{2})\) ?|([2-9][0-9]{2})([-. ]))[0-9]{3}(?(3)\3|[-. ])[0-9]{4}(?![A-Za-z0-9_]|[.\-/][0-9])"
)
_NATIONAL = re.compile(
    rf"(?<![A-Za-z0-9_.+/-])(?<![0-9][ .\-/])0[1-9][0-9]{{0,4}}(?:{_SEP}[0-9]{{2,8}}){{1,5}}(?![A-Za-z0-9_]|[.\-/][0-9])"
)
_CONTIGUOUS = re.compile(
    r"(?<![A-Za-z0-9_.+/-])(?<![0-9][ .\-/])\+?[0-9]{9,12}(?![A-Za-z0-9_]|[.\-/][0-9])"
)
_PHONE_WORD = re.compile(
    r"(?i)\b(?:phone|telephone|tel|mobile|cell|fax|call|whatsapp|sms|t[ée]l[ée]phone|t[ée]l|"
    r"portable|telefon|handy|mobil|tel[ée]fono|telefono|cellulare|tfno)\b[^0-9\n]{0,12}$"
)
_DATE_START = re.compile(r"([0-9]{1,2})([./-])([0-9]{1,2})\2([0-9]{2,4})(?![0-9])")


def _starts_with_date(value: str) -> bool:
    """ "01.02.2024 15" is a date and an hour, not a number to call: a valid day and month
    first, then a different separator or nothing."""
    match = _DATE_START.match(value)
    if not match or not (1 <= int(match.group(1)) <= 31 and 1 <= int(match.group(3)) <= 12):
        return False
    rest = value[match.end() :]
    return not rest.startswith(match.group(2))


def _phones(line: str) -> Iterator[Hit]:
    for match in _INTERNATIONAL.finditer(line):
        digits = re.sub(r"[^0-9]", "", match.group())
        national = digits[2:] if match.group(1) == "00" else digits
        if not 8 <= len(national) <= 15:
            continue
        if match.group(1) == "00" and not re.search(r"[ .\-/(]", match.group()):
            continue  # "0044…" with no spacing at all: as likely a zero-padded number
        yield match.start(), match.end(), "phone number", mask(match.group(), head=3)
    for match in _NORTH_AMERICAN.finditer(line):
        yield match.start(), match.end(), "phone number", mask(match.group(), head=3)
    for match in _NATIONAL.finditer(line):
        digits = re.sub(r"[^0-9]", "", match.group())
        if 9 <= len(digits) <= 12 and not _starts_with_date(match.group()):
            yield match.start(), match.end(), "phone number", mask(match.group(), head=3)
    for match in _CONTIGUOUS.finditer(line):
        if _PHONE_WORD.search(line[: match.start()]):
            yield match.start(), match.end(), "phone number", mask(match.group(), head=3)


DETECTORS: list[Callable[[str], Iterator[Hit]]] = [
    _keys,
    _ibans,
    _national_ids,
    _cards,
    _emails,
    _phones,
]
