"""IP address rules for zones and pods (IPv4 management networks, as CloudStack's pods are).

Every parser raises InvalidParameterValue naming the parameter, never a ValueError.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from cirrostack import errors


def ipv4(text: str, parameter: str) -> ipaddress.IPv4Address:
    """A dotted-quad IPv4 address."""
    try:
        return ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {text}: not an IPv4 address"
        ) from None


def ipv6(text: str, parameter: str) -> ipaddress.IPv6Address:
    """An IPv6 address."""
    try:
        return ipaddress.IPv6Address(text.strip())
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {text}: not an IPv6 address"
        ) from None


def cidr(text: str, parameter: str) -> ipaddress.IPv4Network:
    """An IPv4 CIDR such as ``10.1.1.0/24`` (host bits may be set, as CloudStack allows)."""
    if "/" not in text:
        raise errors.InvalidParameterValue(f"Invalid {parameter} {text}: not a CIDR (a.b.c.d/n)")
    try:
        return ipaddress.IPv4Network(text.strip(), strict=False)
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {text}: not an IPv4 CIDR"
        ) from None


def network(gateway: str, netmask: str) -> ipaddress.IPv4Network:
    """The network a gateway and netmask describe; InvalidParameterValue for a bad netmask."""
    address = ipv4(gateway, "gateway")
    mask = ipv4(netmask, "netmask")
    try:
        return ipaddress.IPv4Network(f"{address}/{mask}", strict=False)
    except ValueError:
        raise errors.InvalidParameterValue(f"Invalid netmask {netmask}") from None


@dataclass(frozen=True)
class PodRange:
    """A pod's management network and the address range its hosts are given."""

    network: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    start: ipaddress.IPv4Address
    end: ipaddress.IPv4Address

    @classmethod
    def of(cls, gateway: str, netmask: str, start: str, end: str | None) -> PodRange:
        """Validate a pod's addresses as CloudStack does; ``end`` defaults to the last usable.

        The network is the gateway's under the netmask; start and end must lie in it, start
        must not follow end, and the gateway must not be inside the range.
        """
        net = network(gateway, netmask)
        router = ipv4(gateway, "gateway")
        first = ipv4(start, "startip")
        last = ipv4(end, "endip") if end else _last_usable(net)
        _inside(net, "startip", first)
        _inside(net, "endip", last)
        if first > last:
            raise errors.InvalidParameterValue(f"The start IP {first} is after the end IP {last}")
        if first <= router <= last:
            raise errors.InvalidParameterValue(
                f"The gateway {gateway} cannot be inside the IP range {first}-{last}"
            )
        return cls(net, router, first, last)

    @property
    def description(self) -> str:
        """The range as ``host_pod_ref.description`` keeps it: ``start-end``."""
        return f"{self.start}-{self.end}"

    def contains(self, address: str) -> bool:
        try:
            return self.start <= ipaddress.IPv4Address(address) <= self.end
        except ValueError:
            return False

    def in_network(self, address: str) -> bool:
        try:
            return ipaddress.IPv4Address(address) in self.network
        except ValueError:
            return False

    def addresses(self) -> Iterator[ipaddress.IPv4Address]:
        current = self.start
        while current <= self.end:
            yield current
            current += 1

    def first_free(self, used: Collection[str]) -> str | None:
        """The lowest address of the range not in ``used``, or None when all are taken."""
        taken = set(used)
        return next((str(a) for a in self.addresses() if str(a) not in taken), None)


def _inside(net: ipaddress.IPv4Network, name: str, address: ipaddress.IPv4Address) -> None:
    if address not in net:
        raise errors.InvalidParameterValue(f"The {name} {address} is not in the network {net}")


def _last_usable(net: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    return net.broadcast_address - 1 if net.num_addresses > 2 else net.broadcast_address


def range_of(cidr_address: str, cidr_size: int, gateway: str, description: str | None) -> PodRange:
    """The PodRange a stored pod row describes (``description`` holds ``start-end``)."""
    net = ipaddress.IPv4Network(f"{cidr_address}/{cidr_size}", strict=False)
    start, _, end = (description or "").partition("-")
    return PodRange.of(gateway, str(net.netmask), start or str(net[1]), end or None)
