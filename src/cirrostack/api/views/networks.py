"""The ``network`` and ``nic`` response objects: spec and serializer side by side.

Field names are CloudStack's (4.18). A page of networks reads its zones, offerings, services,
accounts, domains and domain refs in one query each, whatever the page size. ``tags`` is an
empty list (network tags come later); ``service`` lists the offering's services with their
providers as CloudStack does, whether or not cirrostack provides them (docs/networks.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure, physical_network
from cirrostack.db.models import network as models
from cirrostack.network import ipv4, offerings, vlans

_S, _B, _I, _D, _L = "string", "boolean", "integer", "date", "list"

NETWORK = ObjectSpec(
    "network",
    (
        Field("id", _S, "the id of the network"),
        Field("name", _S, "the name of the network"),
        Field("displaytext", _S, "the displaytext of the network"),
        Field("zoneid", _S, "zone id of the network"),
        Field("zonename", _S, "the name of the zone the network belongs to"),
        Field("type", _S, "the type of the network: Shared, Isolated or L2"),
        Field("traffictype", _S, "the traffic type of the network"),
        Field("state", _S, "state of the network"),
        Field("networkofferingid", _S, "network offering id the network is created from"),
        Field("networkofferingname", _S, "name of the network offering"),
        Field("networkofferingdisplaytext", _S, "display text of the network offering"),
        Field("networkofferingconservemode", _B, "true if the offering is in ip conserve mode"),
        Field("networkofferingavailability", _S, "availability of the network offering"),
        Field("cidr", _S, "Cloudstack managed address space"),
        Field("gateway", _S, "the network's gateway"),
        Field("netmask", _S, "the network's netmask"),
        Field("broadcastdomaintype", _S, "Broadcast domain type of the network"),
        Field("broadcasturi", _S, "broadcast uri of the network (admins only)"),
        Field("vlan", _S, "The vlan of the network (admins only)"),
        Field("networkdomain", _S, "the network domain"),
        Field("dns1", _S, "the first DNS for the network"),
        Field("dns2", _S, "the second DNS for the network"),
        Field("isdefault", _B, "true if network is default, false otherwise"),
        Field("issystem", _B, "true if network is system, false otherwise"),
        Field("canusefordeploy", _B, "list networks available for vm deployment"),
        Field("acltype", _S, "acl type - access type to the network"),
        Field("subdomainaccess", _B, "true if subdomains may use the domain-wide network"),
        Field("physicalnetworkid", _S, "the physical network id"),
        Field("restartrequired", _B, "true network requires restart"),
        Field("specifyipranges", _B, "true if network supports specifying ip ranges"),
        Field("ispersistent", _B, "list networks that are persistent"),
        Field("displaynetwork", _B, "an optional field, whether to the display the network"),
        Field("redundantrouter", _B, "If the network has redundant routers enabled"),
        Field("strechedl2subnet", _B, "true if network can span multiple zones"),
        Field("service", _L, "the list of services"),
        Field("account", _S, "the owner of the network"),
        Field("domain", _S, "the domain name of the network owner"),
        Field("domainid", _S, "the domain id of the network owner"),
        Field("related", _S, "related to what other network configuration"),
        Field("tags", _L, "the list of resource tags associated with network"),
        Field("created", _D, "the date this network was created"),
    ),
)  # fmt: skip

NIC = ObjectSpec(
    "nic",
    (
        Field("id", _S, "the ID of the nic"),
        Field("networkid", _S, "the ID of the corresponding network"),
        Field("networkname", _S, "the name of the corresponding network"),
        Field("netmask", _S, "the netmask of the nic"),
        Field("gateway", _S, "the gateway of the nic"),
        Field("ipaddress", _S, "the ip address of the nic"),
        Field("isdefault", _B, "true if nic is default, false otherwise"),
        Field("macaddress", _S, "the MAC address of the nic"),
        Field("traffictype", _S, "the traffic type of the nic"),
        Field("type", _S, "the type of the nic"),
        Field("broadcasturi", _S, "the broadcast uri of the nic"),
        Field("isolationuri", _S, "the isolation uri of the nic"),
        Field("deviceid", _S, "device id for the network when plugged into the virtual machine"),
        Field("virtualmachineid", _S, "Id of the vm to which the nic belongs"),
        Field("secondaryip", _L, "the Secondary ipv4 addr of nic"),
        Field("extradhcpoption", _L, "the extra dhcp options on the nic"),
    ),
)


def service_items(pairs: Sequence[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """``service[]``: each service once, with its providers, as CloudStack answers it."""
    grouped: dict[str, list[str]] = {}
    for service, provider in pairs:
        grouped.setdefault(service, [])
        if provider:
            grouped[service].append(provider)
    return [
        {"name": name, "provider": [{"name": p} for p in providers], "capability": []}
        for name, providers in grouped.items()
    ]


@dataclass(frozen=True)
class _Related:
    zones: dict[int, infrastructure.DataCenter]
    offerings: dict[int, models.NetworkOffering]
    services: dict[int, list[tuple[str, str | None]]]
    accounts: dict[int, account_models.Account]
    domains: dict[int, account_models.Domain]
    refs: dict[int, models.DomainNetworkRef]
    physical: dict[int, str]


def network_item(session: Session, network: models.Network, admin: bool) -> dict[str, Any]:
    return network_items(session, [network], admin)[0]


def network_items(
    session: Session, found: Sequence[models.Network], admin: bool
) -> list[dict[str, Any]]:
    """Networks as answers show them; related rows read in a fixed number of queries."""
    related = _related(session, found)
    return [_network(network, related, admin) for network in found]


def _related(session: Session, found: Sequence[models.Network]) -> _Related:
    offering_ids = [network.network_offering_id for network in found]
    ids = [network.id for network in found]
    refs: dict[int, models.DomainNetworkRef] = {}
    if ids:
        refs = {
            ref.network_id: ref
            for ref in session.scalars(
                sa.select(models.DomainNetworkRef).where(
                    models.DomainNetworkRef.network_id.in_(ids)
                )
            )
        }
    physical = batch.by_id(
        session, physical_network.PhysicalNetwork, [n.physical_network_id for n in found]
    )
    return _Related(
        zones=batch.by_id(session, infrastructure.DataCenter, [n.data_center_id for n in found]),
        offerings=batch.by_id(session, models.NetworkOffering, offering_ids),
        services=offerings.services_of_each(session, offering_ids),
        accounts=batch.by_id(session, account_models.Account, [n.account_id for n in found]),
        domains=batch.by_id(session, account_models.Domain, [n.domain_id for n in found]),
        refs=refs,
        physical={key: row.uuid for key, row in physical.items()},
    )


def _network(network: models.Network, related: _Related, admin: bool) -> dict[str, Any]:
    zone = related.zones[network.data_center_id]
    offering = related.offerings[network.network_offering_id]
    domain = related.domains[network.domain_id]
    ref = related.refs.get(network.id)
    by_account = network.acl_type != "Domain"
    return responses.compact(
        {
            "id": network.uuid,
            "name": network.name,
            "displaytext": network.display_text,
            "zoneid": zone.uuid,
            "zonename": zone.name,
            "type": network.guest_type,
            "traffictype": network.traffic_type,
            "state": network.state,
            "networkofferingid": offering.uuid,
            "networkofferingname": offering.name,
            "networkofferingdisplaytext": offering.display_text,
            "networkofferingconservemode": offering.conserve_mode,
            "networkofferingavailability": offering.availability,
            "cidr": network.cidr,
            "gateway": network.gateway,
            "netmask": ipv4.netmask_of(network.cidr),
            "broadcastdomaintype": network.broadcast_domain_type,
            "broadcasturi": network.broadcast_uri if admin else None,
            "vlan": vlans.vlan_of(network.broadcast_uri) if admin else None,
            "networkdomain": network.network_domain,
            "dns1": network.dns1,
            "dns2": network.dns2,
            "isdefault": False,
            "issystem": offering.system_only,
            "canusefordeploy": network.state != "Destroy",
            "acltype": network.acl_type,
            "subdomainaccess": None if ref is None else ref.subdomain_access is not False,
            "physicalnetworkid": related.physical.get(network.physical_network_id or 0),
            "restartrequired": network.restart_required,
            "specifyipranges": network.specify_ip_ranges,
            "ispersistent": offering.is_persistent,
            "displaynetwork": network.display_network,
            "redundantrouter": network.redundant,
            "strechedl2subnet": network.streched_l2,
            "service": service_items(related.services.get(offering.id, [])),
            "account": related.accounts[network.account_id].account_name if by_account else None,
            "domain": domain.name,
            "domainid": domain.uuid,
            "related": network.uuid,
            "tags": [],
            "created": responses.date(network.created),
        }
    )


def nic_items(
    nics: Sequence[models.Nic],
    networks: Mapping[int, models.Network] | Sequence[models.Network],
    vm_uuid: str | None = None,
) -> list[dict[str, Any]]:
    """CloudStack's ``nic`` objects of a VM, in device order. ``networks`` holds (at least) the
    NICs' networks, by id or as a list; read them with ``batch.by_id(session, Network, ...)``."""
    by_id = networks if isinstance(networks, Mapping) else {n.id: n for n in networks}
    return [_nic(nic, by_id[nic.network_id], vm_uuid) for nic in nics]


def _nic(nic: models.Nic, network: models.Network, vm_uuid: str | None) -> dict[str, Any]:
    return responses.compact(
        {
            "id": nic.uuid,
            "networkid": network.uuid,
            "networkname": network.name,
            "netmask": nic.netmask,
            "gateway": nic.gateway,
            "ipaddress": nic.ip4_address,
            "isdefault": nic.default_nic,
            "macaddress": nic.mac_address,
            "traffictype": network.traffic_type,
            "type": network.guest_type,
            "broadcasturi": nic.broadcast_uri,
            "isolationuri": nic.isolation_uri,
            "deviceid": None if nic.device_id is None else str(nic.device_id),
            "virtualmachineid": vm_uuid,
            "secondaryip": [],
            "extradhcpoption": [],
        }
    )
