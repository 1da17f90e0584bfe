"""Personal data and secrets that must not leave the machine in a published template.

A template is written from real work, so real data slips in: a client's e-mail address in
an example, a colleague's phone number, an API key pasted while testing. Publishing is
public and permanent (every version stays), so `find_pii` runs before anything is sent and
a finding refuses the publication, naming the line, what was found and a masked excerpt.

Each pattern is chosen to be found where it is and left alone where it is not: wherever a
format has a check digit, only values whose check digit is right count, and shapes that
ordinary text is full of — versions (1.2.3), dates, ISBNs, amounts — fall outside the
grammar of every pattern (tests pin both sides). What is looked for:

- e-mail address: local@domain.tld. Example domains are not exempted: an address that
  looks real to a reader is refused; write "name at example dot org" to show the form.
- phone number: international (+CC or 00CC, 8 to 15 digits as E.164 allows); North
  American (NXX-NXX-XXXX, (NXX) XXX-XXXX, one separator throughout); national numbers with
  a trunk 0 as the UK, France, Germany, Italy and others write them (9 to 12 digits in
  groups of two or more, so ISBN-10's one-digit groups do not match, and a leading date
  such as 01.02.2024 is skipped). A run of digits with no separators counts only after a
  word such as "phone", "tel" or "mobile": alone it is as likely an order number.
- IBAN: country code, two check digits, the account; the length must be that country's
  (ISO 13616 registry) and the ISO 7064 mod-97 check must give 1.
- card number: 13 to 19 digits, plain or in groups of 3 to 6 split by one kind of space or
  dash, starting with a digit card networks issue from (2 to 6), passing the Luhn check;
  a row of four-digit years is not one.
- API keys and private keys, by the shapes their issuers give them: OpenAI-style `sk-…`,
  Simtune's own `sk-sim-…`, Stripe `sk_live_…`/`rk_live_…`, GitHub `ghp_…` (and gho_, ghu_,
  ghs_, ghr_) and `github_pat_…`, AWS access key ids `AKIA…`/`ASIA…`, Slack `xoxb-…`
  (xoxa, xoxp, xoxo, xoxr, xoxs), Google `AIza…`, Hugging Face `hf_…`, JSON Web Tokens, and
  PEM `-----BEGIN … PRIVATE KEY-----` blocks. The random part must be long and mix letters
  and digits, so "sk-learn" or "hf_hub_download" stay prose.
- national ids, those whose shape is distinctive enough to find in free text:
  US Social Security number (AAA-GG-SSSS with dashes, never area 000, 666 or 9xx, group 00
  or serial 0000); UK National Insurance number (two letters from HMRC's allowed sets, six
  digits, A–D; the reserved prefixes BG, GB, KN, NK, NT, TN, ZZ excluded); French NIR/INSEE
  number (15 digits, 2A/2B for Corsica, the 97-complement key checked); German tax id
  (Steuer-IdNr, 11 digits, ISO 7064 mod 11,10 check digit and the rule that exactly one
  digit repeats); Spanish DNI and NIE (the check letter of mod 23 verified); Italian codice
  fiscale (its check character verified, "omocodia" letters included). Ids without a check
  digit and no distinctive shape (most other countries') cannot be told from other numbers
  in prose and are not looked for.

Findings are ordered by line, then by column; where two patterns cover the same characters
only the first listed above in `_DETECTORS` (the most specific) is reported.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator

from contracts.accounts.values import KEY_PREFIX
from services.community.checks.findings import MASK, Finding, lines_of, mask

Hit = tuple[int, int, str, str]  # start, end, pattern, masked excerpt
_NOT_WORD_BEFORE = r"(?<![A-Za-z0-9_])"


def find_pii(text: str) -> list[Finding]:
    """Every personal datum or secret in `text`, one finding each, by line and column."""
    findings: list[tuple[int, int, Finding]] = []
    for number, line in enumerate(lines_of(text), start=1):
        taken = bytearray(len(line))  # 1 where an earlier finding covers the column
        for detector in _DETECTORS:
            for start, end, pattern, excerpt in detector(line):
                if taken.find(1, start, end) != -1:
                    continue
                taken[start:end] = b"\x01" * (end - start)
                findings.append((number, start, Finding(number, pattern, excerpt)))
    return [finding for _, _, finding in sorted(findings, key=lambda item: item[:2])]


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

# ISO 13616 registry: the length of each country's IBAN.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}")


def iban_valid(compact: str) -> bool:
    """ISO 7064 mod 97-10 over the IBAN moved four places left, letters as 10..35."""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        return False
    if IBAN_LENGTHS.get(compact[:2], len(compact)) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _ibans(line: str) -> Iterator[Hit]:
    for match in _IBAN.finditer(line):
        # The pattern runs on into a following word or number; try the candidate lengths
        # from the longest down, ending where the text ends or a space follows.
        positions = [match.start() + i for i, c in enumerate(match.group()) if c != " "]
        known = IBAN_LENGTHS.get(match.group()[:2])
        lengths = [known] if known else range(min(34, len(positions)), 14, -1)
        for length in lengths:
            if length > len(positions):
                continue
            end = positions[length - 1] + 1
            if end < len(line) and line[end].isalnum():
                continue
            compact = "".join(line[p] for p in positions[:length])
            if iban_valid(compact):
                yield match.start(), end, "IBAN", mask(line[match.start() : end], head=4)
                break


# -- card numbers ------------------------------------------------------------------------

_DIGIT_RUN = re.compile(
    r"(?<![A-Za-z0-9_])(?<![0-9][.,])[0-9]+(?:[ -][0-9]+)*(?![A-Za-z0-9_]|[.,][0-9])"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


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
    return luhn_valid(digits)


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
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_CF_DIGIT = "[0-9LMNPQRSTUV]"
_CODICE_FISCALE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Z]{{6}}{_CF_DIGIT}{{2}}[ABCDEHLMPRST]{_CF_DIGIT}{{2}}[A-Z]{_CF_DIGIT}{{3}}[A-Z](?![A-Za-z0-9])"
)
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] + [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20,
         11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23],
        strict=True,
    )
)  # fmt: skip


def ssn_valid(area: str, group: str, serial: str) -> bool:
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def nir_valid(compact: str) -> bool:
    """The French NIR: 97 minus the first 13 digits mod 97 (Corsica's 2A/2B read as 19/18)."""
    if len(compact) != 15:
        return False
    number = compact[:5] + compact[5:7].replace("2A", "19").replace("2B", "18") + compact[7:13]
    if not number.isdigit() or not compact[13:].isdigit():
        return False
    return 97 - int(number) % 97 == int(compact[13:])


def de_tax_id_valid(digits: str) -> bool:
    """The German Steuer-IdNr: ISO 7064 mod 11,10, and among the first ten digits exactly one
    repeats — twice, or three times but not three in a row."""
    if not re.fullmatch(r"[1-9][0-9]{10}", digits):
        return False
    counts = Counter(digits[:10])
    repeated = [d for d, n in counts.items() if n > 1]
    if len(repeated) != 1 or counts[repeated[0]] > 3:
        return False
    if counts[repeated[0]] == 3 and repeated[0] * 3 in digits[:10]:
        return False
    product = 10
    for char in digits[:10]:
        total = (int(char) + product) % 10 or 10
        product = total * 2 % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(digits[10])


def dni_valid(prefix: str, number: str, letter: str) -> bool:
    """A Spanish DNI (8 digits) or NIE (X, Y or Z and 7 digits): the letter is mod 23."""
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _DNI_LETTERS[int(number) % 23] == letter


def codice_fiscale_valid(code: str) -> bool:
    """The Italian codice fiscale: its 16th character from the first 15 (odd places by a
    table, even places by their value)."""
    if len(code) != 16:
        return False
    total = 0
    for i, char in enumerate(code[:15]):
        if i % 2 == 0:
            total += _CF_ODD[char]
        else:
            total += int(char) if char.isdigit() else ord(char) - ord("A")
    return chr(ord("A") + total % 26) == code[15]


def _national_ids(line: str) -> Iterator[Hit]:
    for match in _SSN.finditer(line):
        if ssn_valid(*match.groups()):
            yield match.start(), match.end(), "US Social Security number", mask(match.group())
    for match in _NINO.finditer(line):
        if match.group(1) not in _NINO_RESERVED:
            yield match.start(), match.end(), "UK National Insurance number", mask(match.group())
    for match in _NIR.finditer(line):
        if nir_valid("".join(match.groups())):
            yield match.start(), match.end(), "French NIR (INSEE number)", mask(match.group())
    for match in _DE_TAX.finditer(line):
        if de_tax_id_valid("".join(match.groups())):
            yield match.start(), match.end(), "German tax id", mask(match.group())
    for match in _DNI.finditer(line):
        if dni_valid(match.group(1) or "", match.group(2), match.group(3)):
            yield match.start(), match.end(), "Spanish DNI/NIE", mask(match.group())
    for match in _CODICE_FISCALE.finditer(line):
        if codice_fiscale_valid(match.group()):
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


_DETECTORS: list[Callable[[str], Iterator[Hit]]] = [
    _keys,
    _ibans,
    _national_ids,
    _cards,
    _emails,
    _phones,
]
