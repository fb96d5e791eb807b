"""Physical networks, traffic types and network service providers (root admins only).

createPhysicalNetwork, updatePhysicalNetwork, deletePhysicalNetwork, addTrafficType,
deleteTrafficType and updateNetworkServiceProvider are jobs, as in CloudStack; creates are
recorded at submit (the job answers the new object).
"""

from __future__ import annotations

from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import P, T, domain_arg
from cirrostack.api.views import physical_networks as views
from cirrostack.db.models import physical_network as models
from cirrostack.infrastructure import zones
from cirrostack.network import physical

PHYSICAL = "PhysicalNetwork"
TRAFFIC = "TrafficType"
PROVIDER = "PhysicalNetworkServiceProvider"


def _listed(call: registry.Call, name: str) -> list[str]:
    value = call.get(name)
    return [] if value is None else [str(item) for item in value]


# --- physical networks -----------------------------------------------------------------------


def _physical_answer(call: registry.Call, row: models.PhysicalNetwork) -> responses.Reply:
    return responses.Single("physicalnetwork", views.physical_network_items(call.session, [row])[0])


def _acted_on(call: registry.Call, row: models.PhysicalNetwork) -> models.PhysicalNetwork:
    call.acted_on = (PHYSICAL, row.id, row.name)
    return row


def record_physical_network(call: registry.Call) -> jobs.Instance:
    domain = domain_arg(call)
    new = physical.NewPhysicalNetwork(
        name=call.get("name"),
        zone=zones.by_uuid(call.session, call.get("zoneid"), "zoneid"),
        vlan=call.get("vlan"),
        speed=call.get("networkspeed"),
        domain_id=None if domain is None else domain.id,
        broadcast_domain_range=call.get("broadcastdomainrange"),
        isolation_methods=_listed(call, "isolationmethods"),
        tags=_listed(call, "tags"),
    )
    row = _acted_on(call, physical.create(call.session, new))
    return jobs.Instance(PHYSICAL, row.id, row.uuid)


def _instance(call: registry.Call, model: type[models.PhysicalNetwork]) -> models.PhysicalNetwork:
    if call.instance_id is None:
        raise RuntimeError("the job runs without its physical network")
    return _acted_on(call, call.session.get_one(model, call.instance_id))


def create_physical_network(call: registry.Call) -> responses.Reply:
    return _physical_answer(call, _instance(call, models.PhysicalNetwork))


def find_physical_network(call: registry.Call) -> jobs.Instance:
    row = _acted_on(call, physical.by_uuid(call.session, call.get("id")))
    return jobs.Instance(PHYSICAL, row.id, row.uuid)


def list_physical_networks(call: registry.Call) -> responses.Reply:
    zone = call.get("zoneid")
    wanted = physical.Filter(
        uuid=call.get("id"),
        name=call.get("name"),
        zone_id=None if zone is None else zones.by_uuid(call.session, zone, "zoneid").id,
        keyword=call.get("keyword"),
    )
    found, total = physical.search(call.session, wanted, paging.page(call))
    items = views.physical_network_items(call.session, found)
    return responses.Listing("physicalnetwork", items, total)


def update_physical_network(call: registry.Call) -> responses.Reply:
    row = _acted_on(call, physical.by_uuid(call.session, call.get("id")))
    tags = call.get("tags")
    changes = physical.Changes(
        state=call.get("state"),
        vlan=call.get("vlan"),
        speed=call.get("networkspeed"),
        tags=None if tags is None else [str(tag) for tag in tags],
    )
    physical.update(call.session, row, changes)
    return _physical_answer(call, row)


def delete_physical_network(call: registry.Call) -> responses.Reply:
    row = _acted_on(call, physical.by_uuid(call.session, call.get("id")))
    physical.delete(call.session, row)
    return responses.Success()


# --- traffic types ---------------------------------------------------------------------------


def _traffic_answer(call: registry.Call, row: models.PhysicalNetworkTrafficType) -> responses.Reply:
    return responses.Single("traffictype", views.traffic_type_items(call.session, [row])[0])


def _labels(call: registry.Call) -> physical.Labels:
    return physical.Labels(
        kvm=call.get("kvmnetworklabel"),
        xenserver=call.get("xennetworklabel"),
        vmware=call.get("vmwarenetworklabel"),
        simulator=call.get("simulatorlabel"),
        hyperv=call.get("hypervnetworklabel"),
        ovm3=call.get("ovm3networklabel"),
    )


def record_traffic_type(call: registry.Call) -> jobs.Instance:
    parent = physical.by_uuid(call.session, call.get("physicalnetworkid"), "physicalnetworkid")
    labels = _labels(call)
    kind = physical.traffic_type(call.get("traffictype"))
    row = physical.add_traffic_type(call.session, parent, kind, labels, call.get("vlan"))
    call.acted_on = (TRAFFIC, row.id, row.traffic_type)
    return jobs.Instance(TRAFFIC, row.id, row.uuid)


def add_traffic_type(call: registry.Call) -> responses.Reply:
    if call.instance_id is None:
        raise RuntimeError("addTrafficType's job runs without its traffic type")
    row = call.session.get_one(models.PhysicalNetworkTrafficType, call.instance_id)
    return _traffic_answer(call, row)


def find_traffic_type(call: registry.Call) -> jobs.Instance:
    row = physical.traffic_type_by_uuid(call.session, call.get("id"))
    call.acted_on = (TRAFFIC, row.id, row.traffic_type)
    return jobs.Instance(TRAFFIC, row.id, row.uuid)


def update_traffic_type(call: registry.Call) -> responses.Reply:
    row = physical.traffic_type_by_uuid(call.session, call.get("id"))
    physical.relabel(call.session, row, _labels(call))
    return _traffic_answer(call, row)


def delete_traffic_type(call: registry.Call) -> responses.Reply:
    physical.delete_traffic_type(
        call.session, physical.traffic_type_by_uuid(call.session, call.get("id"))
    )
    return responses.Success()


def list_traffic_types(call: registry.Call) -> responses.Reply:
    parent = physical.by_uuid(call.session, call.get("physicalnetworkid"), "physicalnetworkid")
    found = physical.traffic_types_of(call.session, parent.id)
    return responses.Listing(
        "traffictype", views.traffic_type_items(call.session, found), len(found)
    )


# --- service providers -----------------------------------------------------------------------


def list_providers(call: registry.Call) -> responses.Reply:
    uuid = call.get("physicalnetworkid")
    parent = None if uuid is None else physical.by_uuid(call.session, uuid, "physicalnetworkid")
    wanted = physical.ProviderFilter(
        physical_network_id=None if parent is None else parent.id,
        name=call.get("name"),
        state=call.get("state"),
    )
    found, total = physical.providers(call.session, wanted, paging.page(call))
    items = views.provider_items(call.session, found)
    return responses.Listing("networkserviceprovider", items, total)


def find_provider(call: registry.Call) -> jobs.Instance:
    row = physical.provider_by_uuid(call.session, call.get("id"))
    call.acted_on = (PROVIDER, row.id, row.provider_name)
    return jobs.Instance(PROVIDER, row.id, row.uuid)


def update_provider(call: registry.Call) -> responses.Reply:
    row = physical.provider_by_uuid(call.session, call.get("id"))
    state = call.get("state")
    if state is not None:
        physical.set_provider_state(call.session, row, state)
    item = views.provider_items(call.session, [row])[0]
    return responses.Single("networkserviceprovider", item)


def list_supported_services(call: registry.Call) -> responses.Reply:
    items = views.network_service_items(call.get("service"), call.get("provider"))
    return responses.Listing("networkservice", items, len(items))


_ID = P("id", T.UUID, "the ID of the physical network", required=True,
        related=("listPhysicalNetworks",))  # fmt: skip
_LABELS = (
    P("kvmnetworklabel", T.STRING, "The network name label of the KVM host bridge"),
    P("xennetworklabel", T.STRING, "The network name label of the XenServer network"),
    P("vmwarenetworklabel", T.STRING, "The network name label of the VMware network"),
    P("hypervnetworklabel", T.STRING, "The network name label of the HyperV network"),
    P("ovm3networklabel", T.STRING, "The network name of the OVM3 network"),
    P("simulatorlabel", T.STRING, "The network name label of the simulator"),
)

COMMANDS = (
    registry.Command(
        "createPhysicalNetwork",
        create_physical_network,
        "Creates a physical network",
        (
            P("name", T.STRING, "the name of the physical network", required=True),
            P("zoneid", T.UUID, "the Zone ID for the physical network", required=True,
              related=("listZones",)),
            P("vlan", T.STRING, "the VLAN for the physical network"),
            P("networkspeed", T.STRING, "the speed for the physical network[1G/10G]"),
            P("domainid", T.UUID, "domain ID of the account owning a physical network"),
            P("broadcastdomainrange", T.STRING, "the broadcast domain range: POD or ZONE"),
            P("isolationmethods", T.LIST, "the isolation method for the physical network"),
            P("tags", T.LIST, "Tag the physical network"),
        ),
        views.PHYSICAL_NETWORK,
        authorized=registry.ADMINS,
        is_async=True,
        creates=True,
        instance_type=PHYSICAL,
        event="PHYSICAL.NETWORK.CREATE",
        prepare=record_physical_network,
    ),
    registry.Command(
        "listPhysicalNetworks",
        list_physical_networks,
        "Lists physical networks",
        (
            P("id", T.UUID, "list physical network by id"),
            P("name", T.STRING, "search by name"),
            P("zoneid", T.UUID, "the Zone ID for the physical network"),
            *paging.PARAMS,
        ),
        views.PHYSICAL_NETWORK,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updatePhysicalNetwork",
        update_physical_network,
        "Updates a physical network",
        (
            _ID,
            P("state", T.STRING, "Enabled/Disabled"),
            P("vlan", T.STRING, "the VLAN for the physical network"),
            P("networkspeed", T.STRING, "the speed for the physical network[1G/10G]"),
            P("tags", T.LIST, "Tag the physical network"),
        ),
        views.PHYSICAL_NETWORK,
        authorized=registry.ADMINS,
        is_async=True,
        instance_type=PHYSICAL,
        event="PHYSICAL.NETWORK.UPDATE",
        prepare=find_physical_network,
    ),
    registry.Command(
        "deletePhysicalNetwork",
        delete_physical_network,
        "Deletes a Physical Network.",
        (_ID,),
        authorized=registry.ADMINS,
        is_async=True,
        instance_type=PHYSICAL,
        event="PHYSICAL.NETWORK.DELETE",
        prepare=find_physical_network,
    ),
    registry.Command(
        "addTrafficType",
        add_traffic_type,
        "Adds traffic type to a physical network",
        (
            P("physicalnetworkid", T.UUID, "the Physical Network ID", required=True,
              related=("listPhysicalNetworks",)),
            P("traffictype", T.STRING, "the trafficType to be added to the physical network",
              required=True),
            *_LABELS,
            P("isolationmethod", T.STRING, "Used if physical network has multiple isolation types"),
            P("vlan", T.STRING, "The VLAN id to be used for Management traffic by VMware host"),
        ),
        views.TRAFFIC_TYPE,
        authorized=registry.ADMINS,
        is_async=True,
        creates=True,
        instance_type=TRAFFIC,
        event="TRAFFIC.TYPE.CREATE",
        prepare=record_traffic_type,
    ),
    registry.Command(
        "listTrafficTypes",
        list_traffic_types,
        "Lists traffic types of a given physical network.",
        (
            P("physicalnetworkid", T.UUID, "the Physical Network ID", required=True,
              related=("listPhysicalNetworks",)),
            *paging.PARAMS,
        ),
        views.TRAFFIC_TYPE,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updateTrafficType",
        update_traffic_type,
        "Updates traffic type of a physical network",
        (
            P("id", T.UUID, "traffic type id", required=True, related=("listTrafficTypes",)),
            *_LABELS,
        ),
        views.TRAFFIC_TYPE,
        authorized=registry.ADMINS,
        is_async=True,
        instance_type=TRAFFIC,
        event="TRAFFIC.TYPE.UPDATE",
        prepare=find_traffic_type,
    ),
    registry.Command(
        "deleteTrafficType",
        delete_traffic_type,
        "Deletes traffic type of a physical network",
        (P("id", T.UUID, "traffic type id", required=True, related=("listTrafficTypes",)),),
        authorized=registry.ADMINS,
        is_async=True,
        instance_type=TRAFFIC,
        event="TRAFFIC.TYPE.DELETE",
        prepare=find_traffic_type,
    ),
    registry.Command(
        "listNetworkServiceProviders",
        list_providers,
        "Lists network serviceproviders for a given physical network.",
        (
            P("physicalnetworkid", T.UUID, "the Physical Network ID",
              related=("listPhysicalNetworks",)),
            P("name", T.STRING, "list providers by name"),
            P("state", T.STRING, "list providers by state"),
            *paging.PARAMS,
        ),
        views.PROVIDER,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updateNetworkServiceProvider",
        update_provider,
        "Updates a network serviceProvider of a physical network",
        (
            P("id", T.UUID, "network service provider id", required=True,
              related=("listNetworkServiceProviders",)),
            P("state", T.STRING, "Enabled/Disabled/Shutdown the physical network service provider"),
            P("servicelist", T.LIST, "the list of services to be enabled (ignored)"),
        ),
        views.PROVIDER,
        authorized=registry.ADMINS,
        is_async=True,
        instance_type=PROVIDER,
        event="SERVICE.PROVIDER.UPDATE",
        prepare=find_provider,
    ),
    registry.Command(
        "listSupportedNetworkServices",
        list_supported_services,
        "Lists all network services provided by CloudStack or for the given Provider.",
        (
            P("provider", T.STRING, "network service provider name"),
            P("service", T.STRING, "network service name to list providers and capabilities of"),
            *paging.PARAMS,
        ),
        views.NETWORK_SERVICE,
    ),
)  # fmt: skip
