"""The ``physicalnetwork``, ``traffictype``, ``networkserviceprovider`` and ``networkservice``
response objects (CloudStack 4.18 field names)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import physical_network as models
from cirrostack.network import physical, services

_S, _B, _L = "string", "boolean", "list"

PHYSICAL_NETWORK = ObjectSpec(
    "physicalnetwork",
    (
        Field("id", _S, "the uuid of the physical network"),
        Field("name", _S, "name of the physical network"),
        Field("zoneid", _S, "zone id of the physical network"),
        Field("zonename", _S, "zone name of the physical network"),
        Field("state", _S, "state of the physical network"),
        Field("vlan", _S, "the vlan of the physical network"),
        Field("networkspeed", _S, "the speed of the physical network"),
        Field("broadcastdomainrange", _S, "Broadcast domain range of the physical network"),
        Field("isolationmethods", _S, "isolation methods"),
        Field("tags", _S, "comma separated tag"),
        Field("domainid", _S, "the domain id of the physical network owner"),
    ),
)

TRAFFIC_TYPE = ObjectSpec(
    "traffictype",
    (
        Field("id", _S, "id of the network provider"),
        Field("traffictype", _S, "the trafficType to be added to the physical network"),
        Field("physicalnetworkid", _S, "the physical network this belongs to"),
        Field("kvmnetworklabel", _S, "The network name label of the KVM host bridge"),
        Field("xennetworklabel", _S, "The network name label of the XenServer network"),
        Field("vmwarenetworklabel", _S, "The network name label of the VMware network"),
        Field("hypervnetworklabel", _S, "The network name label of the HyperV network"),
        Field("ovm3networklabel", _S, "The network name of the OVM3 network"),
        Field("isolationmethods", _S, "isolation methods for the physical network"),
        Field("vlan", _S, "the VLAN id of the traffic"),
    ),
)

PROVIDER = ObjectSpec(
    "networkserviceprovider",
    (
        Field("id", _S, "uuid of the network provider"),
        Field("name", _S, "the provider name"),
        Field("physicalnetworkid", _S, "the physical network this belongs to"),
        Field("destinationphysicalnetworkid", _S, "the destination physical network"),
        Field("state", _S, "state of the network provider"),
        Field("servicelist", _L, "services for this provider"),
        Field("canenableindividualservice", _B, "true if individual services can be enabled"),
    ),
)

NETWORK_SERVICE = ObjectSpec(
    "networkservice",
    (
        Field("name", _S, "the service name"),
        Field("provider", _L, "the service provider name"),
        Field("capability", _L, "the list of capabilities"),
    ),
)


def physical_network_items(
    session: Session, found: Sequence[models.PhysicalNetwork]
) -> list[dict[str, Any]]:
    """Physical networks with their zones, domains, tags and methods, in fixed queries."""
    ids = [row.id for row in found]
    zones = batch.by_id(session, infrastructure.DataCenter, [row.data_center_id for row in found])
    domains = batch.by_id(session, account_models.Domain, [row.domain_id for row in found])
    tags = physical.tags_of(session, ids)
    methods = physical.isolation_methods_of(session, ids)
    return [
        responses.compact(
            {
                "id": row.uuid,
                "name": row.name,
                "zoneid": zones[row.data_center_id].uuid,
                "zonename": zones[row.data_center_id].name,
                "state": row.state,
                "vlan": row.vnet,
                "networkspeed": row.speed,
                "broadcastdomainrange": row.broadcast_domain_range,
                "isolationmethods": ",".join(methods.get(row.id, [])) or None,
                "tags": ",".join(tags.get(row.id, [])) or None,
                "domainid": domains[row.domain_id].uuid if row.domain_id else None,
            }
        )
        for row in found
    ]


def traffic_type_items(
    session: Session, found: Sequence[models.PhysicalNetworkTrafficType]
) -> list[dict[str, Any]]:
    parents = batch.by_id(
        session, models.PhysicalNetwork, [row.physical_network_id for row in found]
    )
    methods = physical.isolation_methods_of(session, list(parents))
    return [
        responses.compact(
            {
                "id": row.uuid,
                "traffictype": row.traffic_type,
                "physicalnetworkid": parents[row.physical_network_id].uuid,
                "kvmnetworklabel": row.kvm_network_label,
                "xennetworklabel": row.xenserver_network_label,
                "vmwarenetworklabel": row.vmware_network_label,
                "hypervnetworklabel": row.hyperv_network_label,
                "ovm3networklabel": row.ovm3_network_label,
                "isolationmethods": ",".join(methods.get(row.physical_network_id, [])) or None,
                "vlan": row.vlan,
            }
        )
        for row in found
    ]


def provider_items(
    session: Session, found: Sequence[models.PhysicalNetworkServiceProvider]
) -> list[dict[str, Any]]:
    parents = batch.by_id(
        session, models.PhysicalNetwork, [row.physical_network_id for row in found]
    )
    return [
        responses.compact(
            {
                "id": row.uuid,
                "name": row.provider_name,
                "physicalnetworkid": parents[row.physical_network_id].uuid,
                "destinationphysicalnetworkid": "0",
                "state": row.state,
                "servicelist": physical.services_of(row),
                "canenableindividualservice": row.provider_name
                != services.Provider.VirtualRouter.value,
            }
        )
        for row in found
    ]


def network_service_items(service: str | None, provider: str | None) -> list[dict[str, Any]]:
    """listSupportedNetworkServices: each service with the providers that can give it."""
    items = []
    for known in services.Service:
        if service is not None and known.value.lower() != service.lower():
            continue
        givers = [p.value for p, offered in services.PROVIDER_SERVICES.items() if known in offered]
        if provider is not None:
            givers = [name for name in givers if name.lower() == provider.lower()]
            if not givers:
                continue
        items.append(
            {"name": known.value, "provider": [{"name": name} for name in givers], "capability": []}
        )
    return items
