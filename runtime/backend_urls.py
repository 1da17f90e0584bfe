"""Where a person may point a model server's `base_url`: anywhere but link-local and cloud
metadata addresses, unless the owner allows the host (SIMTUNE_ALLOWED_BACKEND_HOSTS).

A `base_url` is a place the server itself will send requests to, with the person's API key:
pointed at a cloud's metadata service (169.254.169.254, fd00:ec2::254,
metadata.google.internal) it would hand the machine's own credentials to whoever set it.
So the host is checked as written and, for a name, as it resolves now; an address written
in a disguise (decimal, IPv4 inside IPv6) resolves to what it is. Loopback and private LAN
addresses stay allowed: people run Ollama on localhost or on a machine next to them.

A name that does not resolve now is let through: it can be judged only when it is used,
and a name that later moves to such an address (DNS rebinding) is beyond a check made once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from contracts.base import DomainError, ErrorCode

SETTING = "SIMTUNE_ALLOWED_BACKEND_HOSTS"
RESOLVE_TIMEOUT_S = 3.0
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


async def check_base_url(url: str, allowed: tuple[str, ...]) -> None:
    """Refuse (DomainError INVALID, a 400) a `url` whose host is or resolves to a
    link-local or metadata address, unless the host is in `allowed`."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:  # an unclosed IPv6 bracket, say
        raise DomainError(ErrorCode.INVALID, f"base_url {url} is not a valid URL") from None
    if not host or _allowed(host, allowed):
        return
    if host in METADATA_NAMES:
        raise _refused(url, host)
    for address in await _addresses(host):
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # an IPv4 address written inside an IPv6 one
        if _forbidden(address):
            raise _refused(url, str(address))


def _allowed(host: str, allowed: tuple[str, ...]) -> bool:
    return any(
        host == entry or (entry.startswith("*.") and host.endswith(entry[1:])) for entry in allowed
    )


def _forbidden(address: Address) -> bool:
    if address in METADATA_ADDRESSES:
        return True
    return any(address in network for network in LINK_LOCAL if network.version == address.version)


async def _addresses(host: str) -> list[Address]:
    """The host's addresses: itself when it is one, else what it resolves to now (none
    when it does not resolve in time)."""
    try:
        return [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
        )
    except (OSError, TimeoutError, ValueError):  # UnicodeError is a ValueError
        return []
    found = []
    for *_, sockaddr in infos:
        try:
            found.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        except ValueError:
            continue
    return found


def _refused(url: str, address: str) -> DomainError:
    return DomainError(
        ErrorCode.INVALID,
        f"base_url {url} points at {address}, a link-local or cloud metadata address that"
        f" Simtune does not send requests to; the owner can allow this host in {SETTING}.",
    )
