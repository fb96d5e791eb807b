"""IPv4 arithmetic for guest networks: ranges, netmasks and the addresses of a CIDR.

Every parser raises InvalidParameterValue naming the parameter (``infrastructure.addresses``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from cirrostack import errors
from cirrostack.infrastructure import addresses

#: The most addresses one range may have: every address is a ``user_ip_address`` row.
MAX_RANGE = 65536


@dataclass(frozen=True)
class Range:
    """An address range inside the network ``gateway``/``netmask`` describe."""

    network: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    start: ipaddress.IPv4Address
    end: ipaddress.IPv4Address

    @property
    def netmask(self) -> str:
        return str(self.network.netmask)

    @property
    def cidr(self) -> str:
        return str(self.network)

    def addresses(self) -> Iterator[ipaddress.IPv4Address]:
        for value in range(int(self.start), int(self.end) + 1):
            address = ipaddress.IPv4Address(value)
            if address != self.gateway:
                yield address

    def overlaps(self, start: str, end: str) -> bool:
        return int(self.start) <= int(ipaddress.IPv4Address(end)) and int(
            ipaddress.IPv4Address(start)
        ) <= int(self.end)


def range_of(gateway: str, netmask: str, start: str, end: str | None) -> Range:
    """The range ``start``-``end`` (``end`` defaults to ``start``) of the gateway's network."""
    net = addresses.network(gateway, netmask)
    first = addresses.ipv4(start, "startip")
    last = addresses.ipv4(end, "endip") if end else first
    gate = addresses.ipv4(gateway, "gateway")
    for name, address in (("startip", first), ("endip", last)):
        if address not in net or address in (net.network_address, net.broadcast_address):
            raise errors.InvalidParameterValue(
                f"Invalid {name} {address}: not a host address of {net} (gateway {gateway}, "
                f"netmask {netmask})"
            )
    if int(last) < int(first):
        raise errors.InvalidParameterValue(f"Invalid range {first}-{last}: startip is above endip")
    if int(last) - int(first) + 1 > MAX_RANGE:
        raise errors.InvalidParameterValue(
            f"Invalid range {first}-{last}: more than {MAX_RANGE} addresses"
        )
    return Range(net, gate, first, last)


def hosts(cidr: str) -> Iterator[ipaddress.IPv4Address]:
    """The host addresses of ``cidr``, lowest first."""
    return ipaddress.IPv4Network(cidr, strict=False).hosts()


def netmask_of(cidr: str | None) -> str | None:
    return None if cidr is None else str(ipaddress.IPv4Network(cidr, strict=False).netmask)


def inside(address: str, cidr: str) -> bool:
    try:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        return False
