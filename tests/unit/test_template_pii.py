"""What a template may not publish: each kind of personal data or secret is found on its
line, named, and shown masked — and the numbers ordinary prose is full of are left alone."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.community.checks.pii import (
    codice_fiscale_valid,
    de_tax_id_valid,
    find_pii,
    iban_valid,
    luhn_valid,
    nir_valid,
)


def only(text: str):
    findings = find_pii(text)
    assert len(findings) == 1, [f.sentence() for f in findings]
    return findings[0]


def luhn_complete(body: str) -> str:
    """`body` with the check digit that makes it pass Luhn."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def iban_of(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97
    return f"{country}{check:02d}{bban}"


def de_tax_complete(first_ten: str) -> str:
    return next(first_ten + d for d in "0123456789" if de_tax_id_valid(first_ten + d))


# -- found, named and masked ------------------------------------------------------------------

FOUND = [
    ("Write to ada.lovelace@gmail.com for access.", "e-mail address", "ada.lovelace@gmail.com"),
    ("Call +44 20 7946 0958 after nine.", "phone number", "+44 20 7946 0958"),
    ("Dial 0044 20 7946 0958 from abroad.", "phone number", "0044 20 7946 0958"),
    ("Office: +1 (415) 555-0132.", "phone number", "+1 (415) 555-0132"),
    ("Office: (415) 555-0132.", "phone number", "(415) 555-0132"),
    ("US desk 415-555-0132 or", "phone number", "415-555-0132"),
    ("Paris 01 42 68 53 00 ou", "phone number", "01 42 68 53 00"),
    ("Lyon 04.72.10.30.30 ou", "phone number", "04.72.10.30.30"),
    ("London 020 7946 0958 or", "phone number", "020 7946 0958"),
    ("Berlin 030 12345678 or", "phone number", "030 12345678"),
    ("mobile: 07700900123", "phone number", "07700900123"),
    ("IBAN DE89 3704 0044 0532 0130 00 AND more", "IBAN", "DE89 3704 0044 0532 0130 00"),
    ("pay GB82WEST12345698765432.", "IBAN", "GB82WEST12345698765432"),
    ("FR1420041010050500013M02606 is the account", "IBAN", "FR1420041010050500013M02606"),
    ("Card 4111 1111 1111 1111, exp 12/29", "card number", "4111 1111 1111 1111"),
    ("Amex 3782-822463-10005.", "card number", "3782-822463-10005"),
    ("MC 5555555555554444 on file", "card number", "5555555555554444"),
    ("SSN 078-05-1120 in the form", "US Social Security number", "078-05-1120"),
    ("NI number AB 12 34 56 C here", "UK National Insurance number", "AB 12 34 56 C"),
    ("NI number AB123456C here", "UK National Insurance number", "AB123456C"),
    ("NIR 1 84 12 76 451 089 46 du patient", "French NIR (INSEE number)", "1 84 12 76 451 089 46"),
    ("Steuer-ID 86095742719 laut Bescheid", "German tax id", "86095742719"),
    ("DNI 12345678Z del cliente", "Spanish DNI/NIE", "12345678Z"),
    ("NIE X1234567L del cliente", "Spanish DNI/NIE", "X1234567L"),
    ("CF RSSMRA80A01H501U del paziente", "Italian codice fiscale", "RSSMRA80A01H501U"),
    ("key sk-proj-abc123DEF456ghi789JKL012 here", "API key (sk-…)", "sk-proj-abc123DEF456ghi789JKL012"),
    ("key sk-sim-q2L9x_Vb7Rk-3mZpW8sT1yNcE5uHa0JdF4gKo6iBv here", "Simtune API key",
     "sk-sim-q2L9x_Vb7Rk-3mZpW8sT1yNcE5uHa0JdF4gKo6iBv"),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe secret key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("token ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "GitHub token", "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("token github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "GitHub token",
     "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),
    ("aws AKIAIOSFODNN7EXAMPLE key", "AWS access key id", "AKIAIOSFODNN7EXAMPLE"),
    ("slack xoxb-123456789012-abcdefghij token", "Slack token", "xoxb-123456789012-abcdefghij"),
    ("google AIzaSyD4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T key", "Google API key",
     "AIzaSyD4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T"),
    ("hf hf_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7 token", "Hugging Face token",
     "hf_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "JSON Web Token",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "pattern", "value"), FOUND, ids=[f[1] + ":" + f[2][:12] for f in FOUND]
)
def test_each_pattern_is_found_named_and_masked(line, pattern, value):
    text = f"---\nname: x\n---\nintro\n{line}\nend"
    finding = only(text)
    assert (finding.line, finding.pattern) == (5, pattern)
    assert value not in finding.excerpt_masked  # never the whole thing
    assert "*" in finding.excerpt_masked
    assert f"line 5: {pattern}" in finding.sentence()


def test_a_private_key_block_is_found_by_its_header():
    finding = only("a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n")
    assert (finding.line, finding.pattern) == (2, "private key")


def test_masked_excerpts_keep_the_shape_and_little_of_the_value():
    card = only("4111 1111 1111 1111").excerpt_masked
    assert card == "41** **** **** **11"
    assert only("x 078-05-1120").excerpt_masked == "0**-**-***0"
    assert only("ada.lovelace@gmail.com").excerpt_masked == "a***@g***.com"
    key = only("sk-proj-abc123DEF456ghi789JKL012").excerpt_masked
    assert key == "sk-********"


def test_findings_come_in_line_and_column_order_with_each_line_right():
    text = "\n".join(
        [
            "no data here",
            "mail bob@example.org then +33 1 42 68 53 00",
            "",
            "card 4111-1111-1111-1111",
        ]
    )
    assert [(f.line, f.pattern) for f in find_pii(text)] == [
        (2, "e-mail address"),
        (2, "phone number"),
        (4, "card number"),
    ]


def test_windows_line_ends_count_lines_the_same():
    assert only("a\r\nb\r\nbob@example.org\r\n").line == 3


# -- left alone --------------------------------------------------------------------------------

PROSE = [
    "Version 1.2.3 replaced 0.10.11 and 2.0.0-rc.1.",
    "Released on 2024-01-15, updated 15/01/2024 and 01.02.2024 15:00, 12/31/2024.",
    "See ISBN 978-3-16-148410-0, ISBN 0-306-40615-2 and ISBN-10 0306406152.",
    "Revenue grew from 1,234,567.89 to 2 345 678, i.e. 12.5% over 3 years.",
    "Use pi = 3.14159265358979 and e = 2.718281828459045.",
    "The sample had 4111 cells; 1111 were counted; 1111 died; 1111 divided.",
    "Call the function with @decorator syntax; write to the log at INFO.",
    "pip install scikit-learn; import sk-learn style; hf_hub_download(repo_id).",
    "IP 192.168.100.200 and port 8080, range 10.0.0.0/8.",
    "Order #123456789 shipped; ticket 9876543210 closed.",
    "Times 08:30-17:45, coordinates 48.8566, 2.3522.",
    "Unix time 1700000000 and 1700000000000 ms.",
    "The UUID 123e4567-e89b-12d3-a456-426614174000 names the run.",
    "Sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.",
    "Phone numbers are written as +CC followed by the number.",
    "DE is Germany, GB is Britain; ES12 is a code name.",
    "QQ 12 34 56 C is HMRC's example and cannot be issued.",
    "A risk score of 100-200-3000 or 123-456-7890 is a range, not a call.",
    "Tax year 2023 12 345 678 901 is not an id.",
    "Seasons 2017 2018 2019 2020 and 2023 2024 2025 2026 were mild.",
]


@pytest.mark.parametrize("text", PROSE)
def test_ordinary_text_is_not_flagged(text):
    assert find_pii(text) == [], [f.sentence() for f in find_pii(text)]


def test_numbers_that_fail_their_check_digit_are_not_flagged():
    assert find_pii("card 4111 1111 1111 1112") == []
    assert find_pii("IBAN DE89 3704 0044 0532 0130 01") == []
    assert find_pii("DNI 12345678A") == []
    assert find_pii("NIR 1 84 12 76 451 089 47") == []
    assert find_pii("CF RSSMRA80A01H501A") == []
    assert find_pii("SSN 000-12-3456, 666-12-3456, 900-12-3456, 123-00-4567, 123-45-0000") == []


def test_a_phone_number_run_together_counts_only_after_a_phone_word():
    assert find_pii("reference 0612345678") == []
    assert only("tel: 0612345678").pattern == "phone number"


# -- the check-digit algorithms ---------------------------------------------------------------


def test_check_digits_match_published_examples():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("DE89370400440532013000") and iban_valid("GB82WEST12345698765432")
    assert not iban_valid("DE8937040044053201300")  # one digit short for Germany
    assert codice_fiscale_valid("RSSMRA80A01H501U")
    assert de_tax_id_valid("86095742719") and not de_tax_id_valid("86095742710")
    assert not de_tax_id_valid("12345678903")  # no digit repeats
    assert nir_valid("184127645108946") and not nir_valid("184127645108947")
    assert nir_valid("269022A34173214")  # Corsica: 2A counts as 19
    assert only("NIR 2 69 02 2A 341 732 14 ok").pattern == "French NIR (INSEE number)"


@settings(max_examples=60, deadline=None)
@given(body=st.from_regex(r"4[0-9]{14}", fullmatch=True), grouped=st.booleans())
def test_every_luhn_valid_card_is_found_and_one_changed_digit_is_not(body, grouped):
    number = luhn_complete(body)
    shown = " ".join(number[i : i + 4] for i in range(0, 16, 4)) if grouped else number
    finding = only(f"paid with {shown} today")
    assert finding.pattern == "card number" and number not in finding.excerpt_masked
    last = str((int(number[-1]) + 1) % 10)
    assert all(f.pattern != "card number" for f in find_pii(f"paid with {number[:-1]}{last} today"))


@settings(max_examples=60, deadline=None)
@given(bban=st.from_regex(r"[0-9]{18}", fullmatch=True))
def test_every_valid_german_iban_is_found_in_print_and_electronic_form(bban):
    iban = iban_of("DE", bban)
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    for shown in (iban, spaced):
        assert only(f"to {shown} please").pattern == "IBAN"
    broken = iban[:-1] + str((int(iban[-1]) + 1) % 10)
    assert all(f.pattern != "IBAN" for f in find_pii(f"to {broken} please"))


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_generated_german_tax_ids_are_found(seed):
    rng = random.Random(seed)
    digits = rng.sample("0123456789", 9)
    if digits[0] == "0":
        digits[0], digits[1] = digits[1], digits[0]
    first_ten = "".join(digits) + rng.choice(digits[1:])
    assert only(f"IdNr {de_tax_complete(first_ten)}.").pattern == "German tax id"


@settings(max_examples=100, deadline=None)
@given(
    major=st.integers(0, 99), minor=st.integers(0, 99), patch=st.integers(0, 999),
    year=st.integers(1900, 2100), month=st.integers(1, 12), day=st.integers(1, 28),
    hour=st.integers(0, 23), minute=st.integers(0, 59),
)  # fmt: skip
def test_versions_dates_and_times_are_never_personal_data(
    major, minor, patch, year, month, day, hour, minute
):
    text = (
        f"v{major}.{minor}.{patch} and {major}.{minor}.{patch} on {year}-{month:02d}-{day:02d}, "
        f"{day:02d}.{month:02d}.{year} {hour:02d}:{minute:02d}, {day:02d}/{month:02d}/{year}, "
        f"{month:02d}/{day:02d}/{year % 100:02d}"
    )
    assert find_pii(text) == [], [f.sentence() for f in find_pii(text)]


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(categories=("L", "Zs", "P")), max_size=300))
def test_words_without_digits_or_at_signs_are_never_personal_data(text):
    assert find_pii(text.replace("@", " ")) == []


@pytest.mark.parametrize(
    "unit", ["a@b.co ", "1 ", "1-", "0 12 ", "+1 ", "a@", "a@a-", "DE12 ", "AB 12 "]
)
def test_a_template_of_the_largest_size_is_checked_at_once_whatever_it_holds(unit):
    # Publishing waits on this check: no shape of text may make it crawl (a search over
    # every window of a long digit run once did).
    text = unit * (20_000 // len(unit))
    started = time.perf_counter()
    find_pii(text)
    assert time.perf_counter() - started < 1.0
