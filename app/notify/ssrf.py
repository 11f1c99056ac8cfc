"""SSRF guard: a webhook URL must resolve to public addresses only, unless an admin allow-list says otherwise.

Checked when an endpoint is registered and again before every send; the sender then connects to the
address that was checked (not to a second DNS answer), so DNS rebinding cannot slip past the check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NAT64 = ipaddress.ip_network("64:ff9b::/96")
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"))


class UnsafeURL(ValueError):
    """The URL is malformed, not http(s), or resolves to an address the guard refuses."""


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (`address`) and what to call the host (Host header, TLS SNI)."""

    url: SplitResult
    address: IPAddress

    @property
    def host(self) -> str:
        return self.url.hostname or ""

    def pinned_url(self) -> str:
        """The URL with the vetted address in place of the host name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{host}:{self.url.port}" if self.url.port else host
        return self.url._replace(netloc=netloc, fragment="").geturl()

    def host_header(self) -> str:
        return self.url.netloc


def _embedded_v4(ip: IPAddress) -> list[IPAddress]:
    """IPv4 addresses hidden inside an IPv6 one (mapped, 6to4, Teredo, NAT64) are checked as well."""
    if ip.version == 4:
        return []
    out = [a for a in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())) if a is not None]
    if ip in NAT64:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def address_allowed(ip: IPAddress, allow: Sequence[IPNetwork]) -> bool:
    """Public (global unicast, not a cloud metadata address), or inside an admin-allowed network."""
    if any(ip.version == net.version and ip in net for net in allow):
        return True
    return all(a.is_global and not a.is_multicast and a not in METADATA for a in (ip, *_embedded_v4(ip)))


def parse_url(url: str) -> SplitResult:
    """http(s) with a host and no credentials (they would end up in logs and the delivery log)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as e:
        raise UnsafeURL(f"not a valid URL: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("the URL must be http:// or https://")
    if not parts.hostname:
        raise UnsafeURL("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("credentials in the URL are not accepted; authenticate with the webhook signature")
    return parts


def _vet(parts: SplitResult, addresses: list[IPAddress], allow: Sequence[IPNetwork]) -> Target:
    if not addresses:
        raise UnsafeURL(f"{parts.hostname} does not resolve")
    refused = sorted({str(a) for a in addresses if not address_allowed(a, allow)})
    if refused:
        raise UnsafeURL(f"{parts.hostname} resolves to {', '.join(refused)}: loopback, private, link-local or "
                        "metadata addresses are refused unless WATCHFLOOR_WEBHOOK_ALLOW_NETWORKS allows them")
    return Target(parts, addresses[0])


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _addresses(infos) -> list[IPAddress]:
    seen: dict[IPAddress, None] = {}
    for info in infos:
        seen[ipaddress.ip_address(info[4][0].split("%", 1)[0])] = None
    return list(seen)


def check_url(url: str, allow: Sequence[IPNetwork]) -> Target:
    """Blocking check, for registering an endpoint (runs in the request's worker thread)."""
    parts = parse_url(url)
    ip = _literal(parts.hostname)
    if ip is not None:
        return _vet(parts, [ip], allow)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UnsafeURL(f"{parts.hostname} does not resolve: {e.strerror}") from None
    return _vet(parts, _addresses(infos), allow)


async def resolve_url(url: str, allow: Sequence[IPNetwork]) -> Target:
    """The same check without blocking the event loop, made right before a send."""
    parts = parse_url(url)
    ip = _literal(parts.hostname)
    if ip is not None:
        return _vet(parts, [ip], allow)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443,
                                                             type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UnsafeURL(f"{parts.hostname} does not resolve: {e.strerror}") from None
    return _vet(parts, _addresses(infos), allow)
