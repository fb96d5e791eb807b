"""Registration-time checks of a template or ISO URL (the SSRF guard of the server).

Called by registerTemplate and registerIso before any row is written. Rules: only ``http`` and
``https``; a host is required and must resolve; every address it resolves to must be public
(not loopback, private, link-local, multicast, reserved or unspecified) unless it lies inside
one of the ``secstorage.allowed.internal.sites`` CIDRs. The agent checks again when it
downloads (DNS may answer differently by then, and redirects are never followed); that check is
the authoritative one, this one gives the user a clear error at once.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Callable, Sequence

from cirrostack import errors

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Resolves a host name to its addresses (``resolve`` by default; tests pass their own).
Resolver = Callable[[str], Sequence[str]]

SCHEMES = ("http", "https")


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to; an empty list when it does not resolve."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in found})


def allowed_sites(text: str) -> tuple[Network, ...]:
    """The CIDRs of ``secstorage.allowed.internal.sites``; InvalidParameterValue for a bad one.

    0.0.0.0 (any /0 network) is refused as CloudStack does: it would switch the guard off.
    """
    sites = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        try:
            network = ipaddress.ip_network(part, strict=False)
        except ValueError as exc:
            raise errors.InvalidParameterValue(f"Invalid internal site CIDR {part}") from exc
        if network.prefixlen == 0:
            raise errors.InvalidParameterValue(f"{part} is not a valid internal site")
        sites.append(network)
    return tuple(sites)


def check(url: str, sites: Sequence[Network], resolver: Resolver = resolve) -> str:
    """``url`` if it may be registered; InvalidParameterValue saying why not."""
    parsed = _parsed(url)
    host = parsed.hostname or ""
    addresses = [_address(text) for text in resolver(host)]
    if not addresses:
        raise errors.InvalidParameterValue(f"Unable to resolve {host}")
    for address in addresses:
        if _internal(address) and not any(address in site for site in sites):
            raise errors.InvalidParameterValue(
                f"Illegal host specified in url: {host} resolves to an internal address "
                f"{address} that is not in secstorage.allowed.internal.sites"
            )
    return url


def _parsed(url: str) -> urllib.parse.SplitResult:
    try:
        parsed = urllib.parse.urlsplit(url.strip())
        parsed.port  # noqa: B018 - a bad port raises here
    except ValueError as exc:
        raise errors.InvalidParameterValue(f"Invalid URL {url}") from exc
    if parsed.scheme.lower() not in SCHEMES:
        raise errors.InvalidParameterValue(
            f"Unsupported scheme for url: {url}: only http and https are allowed"
        )
    if not parsed.hostname:
        raise errors.InvalidParameterValue(f"Invalid URL {url}: no host")
    if parsed.username is not None or parsed.password is not None:
        raise errors.InvalidParameterValue(f"Invalid URL {url}: credentials are not allowed")
    return parsed


def _address(text: str) -> Address:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _internal(address: Address) -> bool:
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )
