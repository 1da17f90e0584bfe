"""What makes a published template trustworthy and findable: its signature holds only for
exactly the content, id and version that were signed, by exactly that key; versions compare
as numbers; and "highest rated" weighs how many people rated."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.community import RATING_PRIOR_COUNT, RATING_PRIOR_MEAN
from services.community.checks import ranking, semver, signing

CONTENT = "---\nname: x\n---\nRank the causes.\n"


@pytest.fixture(scope="module")
def keys():
    return signing.new_keypair()


def signed(private: bytes, content: str = CONTENT, registry_id="tpl-1", version="1.0.0") -> str:
    return signing.sign(private, registry_id, version, signing.content_sha256(content))


def test_a_signature_verifies_for_what_was_signed(keys):
    private, public = keys
    assert len(private) == 32 and len(base64.b64decode(public)) == 32
    assert signing.public_of(private) == public
    signature = signed(private)
    assert signing.verify(public, "tpl-1", "1.0.0", signing.content_sha256(CONTENT), signature)


def test_changed_content_version_id_or_key_breaks_the_signature(keys):
    private, public = keys
    signature = signed(private)
    digest = signing.content_sha256(CONTENT)
    tampered = signing.content_sha256(CONTENT.replace("Rank", "Ignore"))
    assert not signing.verify(public, "tpl-1", "1.0.0", tampered, signature)
    assert not signing.verify(public, "tpl-1", "1.0.1", digest, signature)
    assert not signing.verify(public, "tpl-2", "1.0.0", digest, signature)
    _, other_public = signing.new_keypair()
    assert not signing.verify(other_public, "tpl-1", "1.0.0", digest, signature)


def test_url_safe_base64_is_accepted_as_the_contracts_allow(keys):
    private, public = keys
    signature = signed(private)
    urlsafe = signature.replace("+", "-").replace("/", "_").rstrip("=")
    assert signing.verify(public.replace("+", "-").replace("/", "_"), "tpl-1", "1.0.0",
                          signing.content_sha256(CONTENT), urlsafe)  # fmt: skip


MALFORMED = [
    ("not base64", None, "!!!"),
    ("short key", base64.b64encode(b"k" * 31).decode(), None),
    ("short signature", None, base64.b64encode(b"s" * 63).decode()),
    ("empty", "", ""),
    ("not text", None, 42),
    ("unicode", "ключ", None),
]


@pytest.mark.parametrize(
    ("public", "signature"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_keys_and_signatures_are_not_valid_and_never_raise(keys, public, signature):
    private, good_public = keys
    digest = signing.content_sha256(CONTENT)
    good_signature = signed(private)
    public = good_public if public is None else public
    signature = good_signature if signature is None else signature
    assert not signing.verify(public, "tpl-1", "1.0.0", digest, signature)


def test_a_malformed_message_is_not_valid(keys):
    private, public = keys
    signature = signed(private)
    digest = signing.content_sha256(CONTENT)
    assert not signing.verify(public, "tpl-1", "1.0.0", digest.upper(), signature)
    assert not signing.verify(public, "tpl-1\n1.0.0", "", digest, signature)
    with pytest.raises(ValueError):
        signing.sign(private, "tpl\n1", "1.0.0", digest)


@settings(max_examples=25, deadline=None)
@given(content=st.text(max_size=200), other=st.text(max_size=200))
def test_any_content_round_trips_and_any_other_content_does_not(keys, content, other):
    private, public = keys
    signature = signed(private, content)
    assert signing.verify(public, "tpl-1", "1.0.0", signing.content_sha256(content), signature)
    if other != content:
        assert not signing.verify(
            public, "tpl-1", "1.0.0", signing.content_sha256(other), signature
        )


# -- versions ---------------------------------------------------------------------------------


def test_versions_compare_as_numbers():
    assert semver.greater("1.10.0", "1.9.0") and not semver.greater("1.9.0", "1.10.0")
    assert not semver.greater("1.0.0", "1.0.0")
    assert semver.parse("0.0.0") == (0, 0, 0) and semver.next_patch("1.4.9") == "1.4.10"


@pytest.mark.parametrize(
    "text", ["1.0", "1.0.0.0", "v1.0.0", "1.02.0", "01.0.0", "1.0.0-rc1", "10000.0.0", "", " 1.0.0"]
)
def test_anything_but_a_canonical_version_is_refused_with_a_sentence(text):
    with pytest.raises(semver.VersionInvalid, match="is not a version"):
        semver.parse(text)
    assert not semver.is_valid(text)


def test_the_last_patch_number_asks_for_a_minor_release():
    with pytest.raises(semver.VersionInvalid, match="raise the minor version"):
        semver.next_patch("1.2.9999")


versions = st.tuples(st.integers(0, 9999), st.integers(0, 9999), st.integers(0, 9999))


@settings(max_examples=100, deadline=None)
@given(a=versions, b=versions)
def test_greater_orders_versions_like_their_numbers(a, b):
    text_a, text_b = ".".join(map(str, a)), ".".join(map(str, b))
    assert semver.parse(text_a) == a
    assert semver.greater(text_a, text_b) == (a > b)
    if a[2] < 9999:
        assert semver.greater(semver.next_patch(text_a), text_a)


# -- ranking ----------------------------------------------------------------------------------


def rated(avg: float, count: int) -> float:
    return ranking.bayesian(avg, count, RATING_PRIOR_MEAN, RATING_PRIOR_COUNT)


def test_one_five_star_review_does_not_outrank_a_hundred_fours():
    assert rated(4.0, 100) > rated(5.0, 1)
    assert rated(5.0, 1) > rated(0, 0) == RATING_PRIOR_MEAN  # but it still counts for something
    assert rated(1.0, 50) < rated(0, 0)


def test_impossible_inputs_are_refused():
    with pytest.raises(ValueError):
        ranking.bayesian(4.0, -1, 3.0, 5)
    with pytest.raises(ValueError):
        ranking.bayesian(4.0, 1, 3.0, 0)
    with pytest.raises(ValueError):
        ranking.bayesian(float("nan"), 1, 3.0, 5)


@settings(max_examples=100, deadline=None)
@given(avg=st.floats(1, 5), count=st.integers(0, 10_000))
def test_the_score_lies_between_the_prior_and_the_average_and_nears_the_average(avg, count):
    score = rated(avg, count)
    low, high = sorted((avg, RATING_PRIOR_MEAN))
    assert low - 1e-9 <= score <= high + 1e-9
    assert abs(rated(avg, count + 1) - avg) <= abs(score - avg) + 1e-9
