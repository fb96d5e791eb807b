"""createVlanIpRange, listVlanIpRanges, deleteVlanIpRange (root admins) and
listPublicIpAddresses.

A range for a shared network (``networkid``) is a DirectAttached range of that network; one
with ``forvirtualnetwork=true`` is a public range of the zone's public network
(``network.public``). The range is locked through its network's row while it is added or
removed, so a NIC claiming one of its addresses and the delete take turns.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import ip_ranges as views
from cirrostack.db.models import infrastructure, physical_network
from cirrostack.db.models import network as models
from cirrostack.infrastructure import zones
from cirrostack.network import ipv4, networks, public, ranges, vlans

RESOURCE_TYPE = "Vlan"


def _range_network(call: registry.Call) -> tuple[models.Network, ranges.VlanType]:
    network_uuid = call.get("networkid")
    virtual = call.get("forvirtualnetwork")
    if network_uuid is not None:
        network = networks.lock(
            call.session, networks.reached(call.session, call.who, network_uuid, "networkid")
        )
        if network.traffic_type == "Public":
            return network, ranges.VlanType.VirtualNetwork
        if virtual:
            raise errors.InvalidParameterValue(
                "forvirtualnetwork=true cannot be given with a guest networkid"
            )
        if network.guest_type != "Shared" and not network.specify_ip_ranges:
            raise errors.InvalidParameterValue(
                f"Network {network.uuid} takes no IP ranges: its offering has specifyipranges=false"
            )
        return network, ranges.VlanType.DirectAttached
    if not virtual:
        raise errors.InvalidParameterValue(
            "Give networkid (a shared network's range) or forvirtualnetwork=true (a public range)"
        )
    zone_uuid = call.get("zoneid")
    if zone_uuid is None:
        raise errors.InvalidParameterValue("zoneid is required for a public IP range")
    zone = zones.by_uuid(call.session, zone_uuid, "zoneid")
    return public.public_network(call.session, zone), ranges.VlanType.VirtualNetwork


def create_vlan_ip_range(call: registry.Call) -> responses.Reply:
    network, kind = _range_network(call)
    gateway = call.get("gateway") or network.gateway
    netmask = call.get("netmask") or ipv4.netmask_of(network.cidr)
    if gateway is None or netmask is None:
        raise errors.InvalidParameterValue("gateway and netmask are required for this IP range")
    if call.get("startip") is None:
        raise errors.InvalidParameterValue("startip is required")
    found = ipv4.range_of(gateway, netmask, call.get("startip"), call.get("endip"))
    given = call.get("vlan")
    uri = network.broadcast_uri if kind is ranges.VlanType.DirectAttached else None
    if given is not None:
        wanted = vlans.broadcast_uri(given)
        if uri is not None and wanted != uri:
            raise errors.InvalidParameterValue(
                f"vlan {given} differs from network {network.uuid}'s {vlans.vlan_of(uri)}"
            )
        uri = wanted
    vlan = ranges.add(call.session, network, found, uri or "vlan://untagged", kind)
    call.acted_on = (RESOURCE_TYPE, vlan.id, vlan.description or vlan.uuid)
    return responses.Single("vlan", views.range_items(call.session, [vlan])[0])


def _filter_id(call: registry.Call, name: str, model: Any) -> int | None:
    uuid = call.get(name)
    if uuid is None:
        return None
    found = call.session.scalar(sa.select(model.id).where(model.uuid == uuid))
    return -1 if found is None else int(found)


def list_vlan_ip_ranges(call: registry.Call) -> responses.Reply:
    wanted = ranges.Filter(
        uuid=call.get("id"),
        zone_id=_filter_id(call, "zoneid", infrastructure.DataCenter),
        network_id=_filter_id(call, "networkid", models.Network),
        physical_network_id=_filter_id(call, "physicalnetworkid", physical_network.PhysicalNetwork),
        for_virtual_network=call.get("forvirtualnetwork"),
        keyword=call.get("keyword"),
    )
    found, total = ranges.search(call.session, wanted, paging.page(call))
    return responses.Listing("vlaniprange", views.range_items(call.session, found), total)


def delete_vlan_ip_range(call: registry.Call) -> responses.Reply:
    vlan = ranges.by_uuid(call.session, call.get("id"))
    call.acted_on = (RESOURCE_TYPE, vlan.id, vlan.description or vlan.uuid)
    networks.lock(call.session, call.session.get_one(models.Network, vlan.network_id))
    ranges.remove(call.session, vlan)
    return responses.Success()


def list_public_ip_addresses(call: registry.Call) -> responses.Reply:
    wanted = public.Filter(
        uuid=call.get("id"),
        address=call.get("ipaddress"),
        zone_id=_filter_id(call, "zoneid", infrastructure.DataCenter),
        vlan_id=_filter_id(call, "vlanid", models.Vlan),
        associated_network_id=_filter_id(call, "associatednetworkid", models.Network),
        physical_network_id=_filter_id(call, "physicalnetworkid", physical_network.PhysicalNetwork),
        allocated_only=call.get("allocatedonly", True),
        state=call.get("state"),
        for_virtual_network=call.get("forvirtualnetwork"),
        keyword=call.get("keyword"),
    )
    found, total = public.search(call.session, call.who, wanted, paging.page(call))
    items = views.public_ip_items(call.session, found)
    return responses.Listing("publicipaddress", items, total)


COMMANDS = (
    registry.Command(
        "createVlanIpRange",
        create_vlan_ip_range,
        "Creates a VLAN IP range.",
        (
            P("zoneid", T.UUID, "the Zone ID of the VLAN IP range", related=("listZones",)),
            P("networkid", T.UUID, "the network id", related=("listNetworks",)),
            P("physicalnetworkid", T.UUID, "the physical network id (ignored: the network's)"),
            P("podid", T.UUID, "the Pod ID of the range (ignored)"),
            P("vlan", T.STRING, "the ID or VID of the VLAN"),
            P("gateway", T.STRING, "the gateway of the VLAN IP range"),
            P("netmask", T.STRING, "the netmask of the VLAN IP range"),
            P("startip", T.STRING, "the beginning IP address in the VLAN IP range"),
            P("endip", T.STRING, "the ending IP address in the VLAN IP range"),
            P("forvirtualnetwork", T.BOOLEAN, "true if VLAN is of Virtual type, false if Direct"),
            P("forsystemvms", T.BOOLEAN, "true if IP range is set to system vms (ignored)"),
            P("account", T.STRING, "account who will own the VLAN (ignored)"),
            P("domainid", T.UUID, "domain ID of the account owning a VLAN (ignored)"),
            P("projectid", T.UUID, "project who will own the VLAN (ignored)"),
            P("startipv6", T.STRING, "the beginning IPv6 address (no IPv6: ignored)"),
            P("endipv6", T.STRING, "the ending IPv6 address (no IPv6: ignored)"),
            P("ip6gateway", T.STRING, "the gateway of the IPv6 network (no IPv6: ignored)"),
            P("ip6cidr", T.STRING, "the CIDR of IPv6 network (no IPv6: ignored)"),
        ),
        views.VLAN,
        authorized=registry.ADMINS,
        event="VLAN.IP.RANGE.CREATE",
    ),
    registry.Command(
        "listVlanIpRanges",
        list_vlan_ip_ranges,
        "Lists all VLAN IP ranges.",
        (
            P("id", T.UUID, "the ID of the VLAN IP range"),
            P("zoneid", T.UUID, "the Zone ID of the VLAN IP range"),
            P("networkid", T.UUID, "network id of the VLAN IP range"),
            P("physicalnetworkid", T.UUID, "physical network id of the VLAN IP range"),
            P("forvirtualnetwork", T.BOOLEAN, "true if VLAN is of Virtual type, false if Direct"),
            P("vlan", T.STRING, "the ID or VID of the VLAN (ignored)"),
            P("podid", T.UUID, "the Pod ID of the VLAN IP range (ignored)"),
            P("account", T.STRING, "the range's account (ignored)"),
            P("domainid", T.UUID, "the range's domain (ignored)"),
            P("projectid", T.UUID, "project who will own the VLAN (ignored)"),
            *paging.PARAMS,
        ),
        views.VLAN_IP_RANGE,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "deleteVlanIpRange",
        delete_vlan_ip_range,
        "Deletes a VLAN IP range.",
        (P("id", T.UUID, "the id of the VLAN IP range", required=True,
           related=("listVlanIpRanges",)),),
        authorized=registry.ADMINS,
        event="VLAN.IP.RANGE.DELETE",
    ),
    registry.Command(
        "listPublicIpAddresses",
        list_public_ip_addresses,
        "Lists all public IP addresses",
        (
            P("id", T.UUID, "lists IP address by ID"),
            P("ipaddress", T.STRING, "lists the specified IP address"),
            P("zoneid", T.UUID, "lists all public IP addresses by zone ID"),
            P("vlanid", T.UUID, "lists all public IP addresses by VLAN ID"),
            P("associatednetworkid", T.UUID, "addresses associated to the network"),
            P("physicalnetworkid", T.UUID, "lists all public IP addresses by physical network ID"),
            P("allocatedonly", T.BOOLEAN, "limits search results to allocated public IP addresses"),
            P("state", T.STRING, "lists all public IP addresses by state"),
            P("forvirtualnetwork", T.BOOLEAN, "the virtual network for the IP address"),
            P("issourcenat", T.BOOLEAN, "list only source NAT IP addresses (ignored)"),
            P("isstaticnat", T.BOOLEAN, "list only static NAT IP addresses (ignored)"),
            P("networkid", T.UUID, "lists all public IP addresses by source network ID (ignored)"),
            P("vpcid", T.UUID, "List ips belonging to the VPC (ignored)"),
            P("account", T.STRING, "list resources by account (ignored)"),
            P("domainid", T.UUID, "list by domain (ignored)"),
            P("projectid", T.UUID, "list objects by project (ignored)"),
            P("listall", T.BOOLEAN, "list resources the caller may see (ignored)"),
            P("isrecursive", T.BOOLEAN, "list recursively (ignored)"),
            P("tags", T.MAP, "List resources by tags (ignored)"),
            P("fordisplay", T.BOOLEAN, "list resources by display flag (ignored)"),
            *paging.PARAMS,
        ),
        views.PUBLIC_IP,
    ),
)  # fmt: skip
