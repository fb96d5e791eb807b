"""Whether the agent may fetch a URL, decided once, with the address it will connect to.

A template URL is chosen by a user, fetched by a host inside the data centre: the classic
server-side request forgery (CVE-2024-29007: redirects to the metadata service and internal
ports). So the rules are:

- ``http`` or ``https`` only; no user info (``http://good@evil``), no whitespace or control
  characters (header injection), no shell characters in the path, decoded or not (the path's
  last segment may become a file or key name: CVE-2024-50386);
- a host written as a number in any form but the canonical one (``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``) is refused outright: resolvers read those as addresses;
- the host is resolved ONCE and every address it has is checked: loopback, private,
  link-local, multicast, reserved, unspecified, shared and every other non-global address is
  refused (an IPv4-mapped, 6to4 or NAT64 IPv6 address is judged by the IPv4 inside it), unless
  the address is inside one of the ``allowed_internal`` CIDRs (secstorage.allowed.internal.sites;
  unspecified and multicast addresses are never allowed);
- the caller then connects to ``CheckedUrl.address`` and sends the name as Host header and TLS
  server name, so a second resolution can never point elsewhere (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from cirrostack.agent import ingest_errors

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: What a decoded path may hold: enough for any image name, nothing a shell or qemu-img reads.
_SAFE_PATH = re.compile(r"[A-Za-z0-9._~/+=,@-]*")
#: What a query may hold as sent: presigned S3 URLs carry ``&``, ``=`` and percent escapes.
_SAFE_QUERY = re.compile(r"[A-Za-z0-9._~/+=,@:%&-]*")
#: A last label that is a number: the host is an address in a resolver's loose notation.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class CheckedUrl:
    """A URL the agent may fetch, and where: connect to ``address``:``port``, say ``host``."""

    url: str
    scheme: str
    host: str
    port: int
    target: str
    address: str

    @property
    def host_header(self) -> str:
        """The Host header: the name, with the port when it is not the scheme's default."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if _DEFAULT_PORTS[self.scheme] == self.port else f"{name}:{self.port}"

    @property
    def basename(self) -> str:
        """The path's last segment, decoded (checked safe), or "" for a bare host."""
        return urllib.parse.unquote(urllib.parse.urlsplit(self.url).path).rsplit("/", 1)[-1]


def allowed_networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    """The allowed-internal CIDRs as networks; BadSetting for one that allows everything."""
    networks = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            raise ingest_errors.BadSetting(f"{cidr!r} is not a CIDR") from None
        if network.prefixlen == 0 or network.network_address.is_unspecified:
            raise ingest_errors.BadSetting(f"{cidr!r} is not a valid internal site")
        networks.append(network)
    return tuple(networks)


def check_url(url: str, allowed_internal: Sequence[str]) -> CheckedUrl:
    """Decide whether ``url`` may be fetched; resolve its host once. Raises UrlRefused."""
    networks = allowed_networks(allowed_internal)
    parts = _split(url)
    host = parts.hostname or ""
    port = _port(parts)
    _check_host_form(host)
    addresses = _resolve(host, port)
    for address in addresses:
        _check_address(host, address, networks)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CheckedUrl(url, parts.scheme, host, port, target, str(addresses[0]))


def _split(url: str) -> urllib.parse.SplitResult:
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        raise ingest_errors.UrlRefused("the URL holds whitespace, control characters or '\\'")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ingest_errors.UrlRefused(f"only http and https URLs are fetched, not {url!r}")
    if "@" in parts.netloc:
        raise ingest_errors.UrlRefused("a URL with user information (user@host) is refused")
    if not parts.hostname:
        raise ingest_errors.UrlRefused(f"the URL {url!r} names no host")
    if not _SAFE_PATH.fullmatch(urllib.parse.unquote(parts.path)):
        raise ingest_errors.UrlRefused(f"the URL path {parts.path!r} holds unsafe characters")
    if not _SAFE_QUERY.fullmatch(parts.query):
        raise ingest_errors.UrlRefused("the URL query holds unsafe characters")
    return parts


def _port(parts: urllib.parse.SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        raise ingest_errors.UrlRefused("the URL's port is not a number from 1 to 65535") from None
    if port == 0:
        raise ingest_errors.UrlRefused("the URL's port is not a number from 1 to 65535")
    return port or _DEFAULT_PORTS[parts.scheme]


def _check_host_form(host: str) -> None:
    try:
        ipaddress.ip_address(host)
        return  # a canonical literal: judged like any resolved address
    except ValueError:
        pass
    if _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
        raise ingest_errors.UrlRefused(
            f"the host {host!r} is an address in a non-canonical form; write it as a.b.c.d"
        )


def _resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` has, in the resolver's order; UrlRefused when it has none."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ingest_errors.UrlRefused(f"the host {host!r} does not resolve: {exc}") from None
    addresses: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ingest_errors.UrlRefused(f"the host {host!r} has no address")
    return addresses


def _embedded_v4(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), or the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _check_address(host: str, address: Address, networks: Sequence[Network]) -> None:
    inner = _embedded_v4(address)
    if inner.is_unspecified or inner.is_multicast:
        raise ingest_errors.UrlRefused(f"{host!r} resolves to {address}: never fetched from")
    if not _internal(inner) or _allowed(inner, address, networks):
        return
    raise ingest_errors.UrlRefused(
        f"{host!r} resolves to {address}, an internal address (loopback, private, link-local "
        "or reserved); allow it with secstorage.allowed.internal.sites"
    )


def _internal(address: Address) -> bool:
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or not address.is_global
    )


def _allowed(inner: Address, address: Address, networks: Sequence[Network]) -> bool:
    return any(inner in network or address in network for network in networks)
