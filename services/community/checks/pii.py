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
only the first in `pii_patterns.DETECTORS` (the most specific, in the order listed above) is
reported.
"""

from __future__ import annotations

from services.community.checks.check_digits import (
    IBAN_LENGTHS,
    codice_fiscale_valid,
    de_tax_id_valid,
    dni_valid,
    iban_valid,
    luhn_valid,
    nir_valid,
    ssn_valid,
)
from services.community.checks.findings import Finding, lines_of
from services.community.checks.pii_patterns import DETECTORS, Hit

__all__ = [
    "IBAN_LENGTHS",
    "Hit",
    "codice_fiscale_valid",
    "de_tax_id_valid",
    "dni_valid",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "nir_valid",
    "ssn_valid",
]


def find_pii(text: str) -> list[Finding]:
    """Every personal datum or secret in `text`, one finding each, by line and column."""
    findings: list[tuple[int, int, Finding]] = []
    for number, line in enumerate(lines_of(text), start=1):
        taken = bytearray(len(line))  # 1 where an earlier finding covers the column
        for detector in DETECTORS:
            for start, end, pattern, excerpt in detector(line):
                if taken.find(1, start, end) != -1:
                    continue
                taken[start:end] = b"\x01" * (end - start)
                findings.append((number, start, Finding(number, pattern, excerpt)))
    return [finding for _, _, finding in sorted(findings, key=lambda item: item[:2])]
