"""Pod address rules: network, range, gateway, free addresses."""

from __future__ import annotations

import pytest

from cirrostack import errors
from cirrostack.infrastructure import addresses


def test_a_pod_range_is_derived_from_gateway_netmask_and_start() -> None:
    span = addresses.PodRange.of("192.168.1.1", "255.255.255.0", "192.168.1.10", None)
    assert str(span.network) == "192.168.1.0/24"
    assert (str(span.start), str(span.end)) == ("192.168.1.10", "192.168.1.254")
    assert span.description == "192.168.1.10-192.168.1.254"


@pytest.mark.parametrize(
    ("gateway", "netmask", "start", "end", "message"),
    [
        ("192.168.1.1", "255.0.255.0", "192.168.1.10", None, "Invalid netmask"),
        ("192.168.1", "255.255.255.0", "192.168.1.10", None, "Invalid gateway"),
        ("192.168.1.1", "255.255.255.0", "10.0.0.1", None, "startip 10.0.0.1 is not in"),
        ("192.168.1.1", "255.255.255.0", "192.168.1.10", "192.168.2.9", "endip"),
        ("192.168.2.1", "255.255.255.0", "192.168.1.10", None, "not in the network 192.168.2"),
        ("192.168.1.1", "255.255.255.0", "192.168.1.50", "192.168.1.10", "is after"),
        ("192.168.1.20", "255.255.255.0", "192.168.1.10", "192.168.1.50", "cannot be inside"),
    ],
)
def test_bad_pod_addresses_are_refused(
    gateway: str, netmask: str, start: str, end: str | None, message: str
) -> None:
    with pytest.raises(errors.InvalidParameterValue, match=message):
        addresses.PodRange.of(gateway, netmask, start, end)


def test_first_free_skips_used_addresses_and_ends_with_none() -> None:
    span = addresses.PodRange.of("10.0.0.1", "255.255.255.0", "10.0.0.10", "10.0.0.12")
    assert span.first_free(set()) == "10.0.0.10"
    assert span.first_free({"10.0.0.10", "10.0.0.11"}) == "10.0.0.12"
    assert span.first_free({"10.0.0.10", "10.0.0.11", "10.0.0.12"}) is None
    assert span.contains("10.0.0.11") and not span.contains("10.0.0.13")
    assert span.in_network("10.0.0.200") and not span.contains("not an address")


def test_a_stored_range_reads_back() -> None:
    span = addresses.range_of("10.0.0.0", 24, "10.0.0.1", "10.0.0.10-10.0.0.20")
    assert (str(span.start), str(span.end), str(span.gateway)) == (
        "10.0.0.10",
        "10.0.0.20",
        "10.0.0.1",
    )


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (addresses.ipv4, "1.2.3"),
        (addresses.ipv6, "1.2.3.4"),
        (addresses.cidr, "10.0.0.0"),
        (addresses.cidr, "10.0.0.0/33"),
    ],
)
def test_address_parsers_name_the_parameter(parse: object, text: str) -> None:
    assert callable(parse)
    with pytest.raises(errors.InvalidParameterValue, match="Invalid dns1"):
        parse(text, "dns1")
