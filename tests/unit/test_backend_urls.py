"""Where a model server's base_url may point: anywhere a person runs one (this machine, the
LAN, the internet), but not at link-local or cloud metadata addresses, however written,
unless the owner allows the host."""

from __future__ import annotations

import pytest

from contracts.base import DomainError, ErrorCode
from runtime.backend_urls import check_base_url
from runtime.settings import SettingsError, load_settings

REFUSED = [
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ("http://169.254.7.1:8080/v1", "169.254.7.1"),  # link-local, not only the metadata host
    ("http://[fe80::1]/v1", "fe80::1"),
    ("http://[fd00:ec2::254]/", "fd00:ec2::254"),
    ("http://metadata.google.internal/computeMetadata/v1", "metadata.google.internal"),
    ("http://METADATA.google.internal./", "metadata.google.internal"),
    ("http://2852039166/", "169.254.169.254"),  # decimal
    ("http://0xA9FEA9FE/", "169.254.169.254"),  # hexadecimal
    ("http://[::ffff:169.254.169.254]/", "169.254.169.254"),  # IPv4 inside IPv6
]


@pytest.mark.parametrize("url, address", REFUSED)
async def test_link_local_and_metadata_addresses_are_refused(url, address):
    with pytest.raises(DomainError) as refused:
        await check_base_url(url, ())
    assert refused.value.code == ErrorCode.INVALID
    assert address in refused.value.detail
    assert "SIMTUNE_ALLOWED_BACKEND_HOSTS" in refused.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:11434",
        "http://127.0.0.1:8000/v1",
        "http://[::1]:11434",
        "http://192.168.1.20:11434",
        "http://10.0.0.5/v1",
        "https://api.openai.com/v1",  # not resolvable offline: judged when used
    ],
)
async def test_this_machine_the_lan_and_public_servers_are_allowed(url):
    await check_base_url(url, ())


async def test_the_owner_can_allow_a_host():
    await check_base_url("http://169.254.10.5:8000/v1", ("169.254.10.5",))
    await check_base_url("http://metadata.google.internal/", ("*.google.internal",))
    with pytest.raises(DomainError):  # only the host named
        await check_base_url("http://169.254.10.6:8000/v1", ("169.254.10.5",))


def test_the_allowlist_setting_is_read_and_checked():
    env = {"SIMTUNE_ALLOWED_BACKEND_HOSTS": " 169.254.10.5, GPU.Internal. ,[fe80::1],"}
    assert load_settings(env).allowed_backend_hosts == ("169.254.10.5", "gpu.internal", "fe80::1")
    assert load_settings({}).allowed_backend_hosts == ()
    with pytest.raises(SettingsError, match="SIMTUNE_ALLOWED_BACKEND_HOSTS"):
        load_settings({"SIMTUNE_ALLOWED_BACKEND_HOSTS": "http://169.254.10.5:80"})
