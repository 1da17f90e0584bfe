"""The gateway's per-address limits (gateway/accounts/limits.py): a sliding window on a clock
the test moves, the client address behind trusted proxies only, and their settings."""

from __future__ import annotations

import ipaddress

import pytest
from litestar.datastructures import Headers

from gateway.accounts.limits import (
    Limits,
    RateLimited,
    SlidingWindow,
    client_address,
    duration,
)
from runtime.settings import SettingsError, load_settings
from services.expert.answering.waiting import Waiting


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_refuses_past_its_limit_until_the_oldest_attempt_slides_out():
    clock = Clock()
    window = SlidingWindow(3, 60, clock)
    for _ in range(3):
        assert window.attempt("198.51.100.1") is None
        clock.now += 10  # attempts at 1000, 1010, 1020
    assert window.attempt("198.51.100.1") == pytest.approx(30)  # the first leaves at 1060
    clock.now = 1059.0
    assert window.attempt("198.51.100.1") == pytest.approx(1)
    clock.now = 1060.5
    assert window.attempt("198.51.100.1") is None  # one slot came free, and is taken again
    assert window.attempt("198.51.100.1") == pytest.approx(9.5)  # the next leaves at 1070


def test_each_address_has_its_own_window():
    window = SlidingWindow(1, 60, Clock())
    assert window.attempt("198.51.100.1") is None
    assert window.attempt("198.51.100.1") is not None
    assert window.attempt("198.51.100.2") is None


def test_the_same_unknown_credential_counts_once_and_new_ones_each_count():
    window = SlidingWindow(2, 600, Clock())
    for _ in range(10):
        window.hit("203.0.113.9", "hash-of-an-expired-session")
    assert window.retry_after("203.0.113.9") is None
    window.hit("203.0.113.9", "hash-of-a-guess")
    assert window.retry_after("203.0.113.9") is not None


def test_limit_zero_never_refuses():
    window = SlidingWindow(0, 600, Clock())
    assert all(window.attempt("198.51.100.1") is None for _ in range(1000))


def test_a_refusal_names_the_limit_its_setting_and_the_wait():
    clock = Clock()
    env = {"SIMTUNE_SIGNIN_ATTEMPTS_PER_IP": "2", "SIMTUNE_FAILED_CREDENTIALS_PER_IP": "1"}
    limits = Limits(load_settings(env), clock)
    limits.sign_in("198.51.100.1")
    limits.sign_in("198.51.100.1")
    with pytest.raises(RateLimited) as refused:
        limits.sign_in("198.51.100.1")
    assert refused.value.status_code == 429
    assert refused.value.headers == {"Retry-After": "600"}
    detail = refused.value.detail
    assert "at most 2 in 10 minutes" in detail and "SIMTUNE_SIGNIN_ATTEMPTS_PER_IP" in detail

    limits.unknown_credential("198.51.100.1", "guess-1")
    clock.now += 45
    with pytest.raises(RateLimited) as locked:
        limits.check_credentials("198.51.100.1")
    assert locked.value.headers == {"Retry-After": "555"}
    assert "SIMTUNE_FAILED_CREDENTIALS_PER_IP" in locked.value.detail
    assert "9 minutes" in locked.value.detail
    limits.check_credentials("198.51.100.2")  # another address is not affected


def test_durations_read_as_people_say_them():
    assert duration(600) == "10 minutes"
    assert duration(44.2) == "45 seconds"
    assert duration(0.2) == "1 second"


def scope(peer: str) -> dict:
    return {"type": "http", "client": (peer, 51234), "path": "/api/experts"}


def forwarded(*values: str) -> Headers:
    return Headers([(b"x-forwarded-for", value.encode()) for value in values])


PROXIES = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8")]


def test_without_a_trusted_proxy_the_peer_is_the_client_whatever_the_header_says():
    headers = forwarded("203.0.113.50")
    assert client_address(scope("198.51.100.7"), headers, []) == "198.51.100.7"
    assert client_address(scope("198.51.100.7"), headers, PROXIES) == "198.51.100.7"


def test_behind_trusted_proxies_the_last_untrusted_hop_is_the_client():
    # the client wrote a made-up first hop; the proxies appended what they saw
    headers = forwarded("192.0.2.1, 203.0.113.50", "10.1.2.3")
    assert client_address(scope("127.0.0.1"), headers, PROXIES) == "203.0.113.50"
    assert client_address(scope("127.0.0.1"), forwarded("2001:db8::5"), PROXIES) == "2001:db8::5"


def test_a_trusted_proxy_with_no_readable_header_counts_as_itself():
    assert client_address(scope("127.0.0.1"), Headers([]), PROXIES) == "127.0.0.1"
    assert client_address(scope("127.0.0.1"), forwarded("not-an-ip"), PROXIES) == "127.0.0.1"
    assert client_address(scope("127.0.0.1"), forwarded("10.0.0.9"), PROXIES) == "10.0.0.9"


def test_the_limits_settings_have_generous_defaults_and_say_what_is_wrong():
    s = load_settings({})
    assert (s.signin_attempts_per_ip, s.failed_credentials_per_ip, s.ip_limit_window_s) == (
        20,
        60,
        600,
    )
    assert s.trusted_proxies == ()
    assert s.max_storage_bytes_per_user == 10 * 1024**3
    assert (s.max_queued_answers_per_user, s.max_runs_per_user) == (20, 5)
    proxies = load_settings({"SIMTUNE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,[::1]"})
    assert proxies.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
    with pytest.raises(SettingsError, match="SIMTUNE_TRUSTED_PROXIES"):
        load_settings({"SIMTUNE_TRUSTED_PROXIES": "proxy.lan"})
    with pytest.raises(SettingsError, match="SIMTUNE_MAX_RUNS_PER_USER"):
        load_settings({"SIMTUNE_MAX_RUNS_PER_USER": "-1"})


def test_a_persons_answers_in_progress_are_capped_and_others_are_not_affected():
    from contracts.base import DomainError

    waiting = Waiting(2)
    with waiting.slot("alice"), waiting.slot("alice"):
        with pytest.raises(DomainError) as refused, waiting.slot("alice"):
            pass
        assert refused.value.status == 429
        assert "SIMTUNE_MAX_QUEUED_ANSWERS_PER_USER" in refused.value.detail
        with waiting.slot("bob"):
            assert waiting.of("bob") == 1
    assert waiting.of("alice") == 0  # every place is given back, refused or not
    with waiting.slot("alice"):
        pass
