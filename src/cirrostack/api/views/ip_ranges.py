"""The ``vlan``/``vlaniprange`` and ``publicipaddress`` response objects (CloudStack 4.18)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure, physical_network
from cirrostack.db.models import network as models
from cirrostack.network import ranges, vlans

_S, _B, _D, _L = "string", "boolean", "date", "list"

_RANGE_FIELDS = (
    Field("id", _S, "the ID of the VLAN IP range"),
    Field("forvirtualnetwork", _B, "the virtual network for the VLAN IP range"),
    Field("zoneid", _S, "the Zone ID of the VLAN IP range"),
    Field("vlan", _S, "the ID or VID of the VLAN."),
    Field("gateway", _S, "the gateway of the VLAN IP range"),
    Field("netmask", _S, "the netmask of the VLAN IP range"),
    Field("cidr", _S, "the cidr of the VLAN IP range"),
    Field("description", _S, "the description of the VLAN IP range"),
    Field("startip", _S, "the start ip of the VLAN IP range"),
    Field("endip", _S, "the end ip of the VLAN IP range"),
    Field("networkid", _S, "the network id of vlan range"),
    Field("physicalnetworkid", _S, "the physical network this belongs to"),
    Field("forsystemvms", _B, "indicates whether VLAN IP range is dedicated to system vms"),
    Field("domainid", _S, "the domain ID of the VLAN IP range"),
    Field("domain", _S, "the domain name of the VLAN IP range"),
)

VLAN = ObjectSpec("vlan", _RANGE_FIELDS)
VLAN_IP_RANGE = ObjectSpec("vlaniprange", _RANGE_FIELDS)

PUBLIC_IP = ObjectSpec(
    "publicipaddress",
    (
        Field("id", _S, "public IP address id"),
        Field("ipaddress", _S, "public IP address"),
        Field("state", _S, "State of the ip address. Can be: Allocating, Allocated and Releasing"),
        Field("allocated", _D, "date the public IP address was acquired"),
        Field("zoneid", _S, "the ID of the zone the public IP address belongs to"),
        Field("zonename", _S, "the name of the zone the public IP address belongs to"),
        Field("issourcenat", _B, "true if the IP address is a source nat address"),
        Field("isstaticnat", _B, "true if this ip is for static nat, false otherwise"),
        Field("issystem", _B, "true if this ip is system ip (was allocated as a part of deployVm)"),
        Field("isportable", _B, "is public IP portable across the zones"),
        Field("forvirtualnetwork", _B, "the virtual network for the IP address"),
        Field("forsystemvms", _B, "true if range is dedicated for System VMs"),
        Field("fordisplay", _B, "is public ip for display to the regular user"),
        Field("associatednetworkid", _S, "the ID of the Network associated with the IP address"),
        Field("networkid", _S, "the ID of the Network where ip belongs to"),
        Field("vlanid", _S, "the ID of the VLAN associated with the IP address"),
        Field("vlanname", _S, "the VLAN associated with the IP address"),
        Field("physicalnetworkid", _S, "the physical network this belongs to"),
        Field("account", _S, "the account the public IP address is associated with"),
        Field("domainid", _S, "the domain ID the public IP address is associated with"),
        Field("domain", _S, "the domain the public IP address is associated with"),
        Field("tags", _L, "the list of resource tags associated with ip address"),
    ),
)


def range_items(session: Session, found: Sequence[models.Vlan]) -> list[dict[str, Any]]:
    """IP ranges with their zones, networks and physical networks, in fixed queries."""
    zones = batch.by_id(session, infrastructure.DataCenter, [v.data_center_id for v in found])
    networks = batch.by_id(session, models.Network, [v.network_id for v in found])
    physical = batch.by_id(
        session, physical_network.PhysicalNetwork, [v.physical_network_id for v in found]
    )
    domains = batch.by_id(session, account_models.Domain, [n.domain_id for n in networks.values()])
    items = []
    for vlan in found:
        start, end = ranges.bounds(vlan)
        network = networks[vlan.network_id]
        shared = vlan.vlan_type == ranges.VlanType.DirectAttached.value
        domain = domains[network.domain_id] if shared else None
        carrier = physical.get(vlan.physical_network_id or 0)
        items.append(
            responses.compact(
                {
                    "id": vlan.uuid,
                    "forvirtualnetwork": not shared,
                    "zoneid": zones[vlan.data_center_id].uuid,
                    "vlan": vlans.vlan_of(vlan.vlan_id),
                    "gateway": vlan.vlan_gateway,
                    "netmask": vlan.vlan_netmask,
                    "cidr": network.cidr if shared else None,
                    "description": vlan.description,
                    "startip": start,
                    "endip": end,
                    "networkid": network.uuid,
                    "physicalnetworkid": None if carrier is None else carrier.uuid,
                    "forsystemvms": False,
                    "domainid": None if domain is None else domain.uuid,
                    "domain": None if domain is None else domain.name,
                }
            )
        )
    return items


def public_ip_items(
    session: Session, found: Sequence[models.UserIpAddress]
) -> list[dict[str, Any]]:
    zones = batch.by_id(session, infrastructure.DataCenter, [a.data_center_id for a in found])
    vlan_rows = batch.by_id(session, models.Vlan, [a.vlan_db_id for a in found])
    networks = batch.by_id(
        session,
        models.Network,
        [a.source_network_id for a in found] + [a.network_id for a in found],
    )
    physical = batch.by_id(
        session, physical_network.PhysicalNetwork, [a.physical_network_id for a in found]
    )
    owners = batch.by_id(session, account_models.Account, [a.account_id for a in found])
    domains = batch.by_id(session, account_models.Domain, [a.domain_id for a in found])
    items = []
    for address in found:
        zone = zones[address.data_center_id]
        vlan = vlan_rows[address.vlan_db_id]
        associated = networks.get(address.network_id or 0)
        owner = owners.get(address.account_id or 0)
        domain = domains.get(address.domain_id or 0)
        carrier = physical.get(address.physical_network_id or 0)
        items.append(
            responses.compact(
                {
                    "id": address.uuid,
                    "ipaddress": address.public_ip_address,
                    "state": address.state,
                    "allocated": responses.date(address.allocated),
                    "zoneid": zone.uuid,
                    "zonename": zone.name,
                    "issourcenat": address.source_nat,
                    "isstaticnat": address.one_to_one_nat,
                    "issystem": address.is_system,
                    "isportable": address.is_portable,
                    "forvirtualnetwork": True,
                    "forsystemvms": address.forsystemvms,
                    "fordisplay": address.display,
                    "associatednetworkid": None if associated is None else associated.uuid,
                    "networkid": networks[address.source_network_id].uuid,
                    "vlanid": vlan.uuid,
                    "vlanname": vlans.vlan_of(vlan.vlan_id),
                    "physicalnetworkid": None if carrier is None else carrier.uuid,
                    "account": None if owner is None else owner.account_name,
                    "domainid": None if domain is None else domain.uuid,
                    "domain": None if domain is None else domain.name,
                    "tags": [],
                }
            )
        )
    return items
