"""createNetworkOffering, listNetworkOfferings, updateNetworkOffering, deleteNetworkOffering.

Root admins manage network offerings; everyone lists the Enabled ones (``offering_admin``).
"""

from __future__ import annotations

from typing import Any

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import network_offerings as views
from cirrostack.db.models import network as models
from cirrostack.network import networks, offering_admin, offerings

RESOURCE_TYPE = "NetworkOffering"


def _acted_on(call: registry.Call, offering: models.NetworkOffering) -> models.NetworkOffering:
    call.acted_on = (RESOURCE_TYPE, offering.id, offering.name or offering.uuid)
    return offering


def _answer(call: registry.Call, offering: models.NetworkOffering) -> responses.Reply:
    item = views.network_offering_items(call.session, [offering])[0]
    return responses.Single("networkoffering", item)


def _providers(call: registry.Call) -> dict[str, str]:
    """``serviceproviderlist[i].service`` / ``.provider`` pairs, by service."""
    found: dict[str, str] = {}
    entries: dict[str, dict[str, Any]] = call.get("serviceproviderlist", {})
    for entry in entries.values():
        service, provider = entry.get("service"), entry.get("provider")
        if service and provider:
            found[str(service)] = str(provider)
    return found


def _listed(call: registry.Call, name: str) -> list[str]:
    value = call.get(name)
    return [] if value is None else [str(item) for item in value]


def create_network_offering(call: registry.Call) -> responses.Reply:
    new = offering_admin.NewOffering(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        guest_type=call.get("guestiptype"),
        traffic_type=call.get("traffictype"),
        supported_services=_listed(call, "supportedservices"),
        providers=_providers(call),
        specify_vlan=call.get("specifyvlan", False),
        specify_ip_ranges=call.get("specifyipranges"),
        availability=call.get("availability"),
        conserve_mode=call.get("conservemode", True),
        is_persistent=call.get("ispersistent", False),
        egress_default_policy=call.get("egressdefaultpolicy", True),
        for_vpc=call.get("forvpc", False),
        tags=call.get("tags"),
        network_rate=call.get("networkrate"),
        max_connections=call.get("maxconnections"),
        enable=call.get("enable", False),
    )
    return _answer(call, _acted_on(call, offering_admin.create(call.session, new)))


def list_network_offerings(call: registry.Call) -> responses.Reply:
    network_uuid = call.get("networkid")
    only = None
    if network_uuid is not None:
        network = networks.reached(call.session, call.who, network_uuid, "networkid")
        only = [network.network_offering_id]
    wanted = offering_admin.Filter(
        uuid=call.get("id"),
        name=call.get("name"),
        display_text=call.get("displaytext"),
        keyword=call.get("keyword"),
        guest_type=call.get("guestiptype"),
        traffic_type=call.get("traffictype"),
        state=call.get("state"),
        availability=call.get("availability"),
        is_default=call.get("isdefault"),
        specify_vlan=call.get("specifyvlan"),
        specify_ip_ranges=call.get("specifyipranges"),
        for_vpc=call.get("forvpc"),
        is_tagged=call.get("istagged"),
        tags=call.get("tags"),
        supported_services=_listed(call, "supportedservices"),
        source_nat_supported=call.get("sourcenatsupported"),
        only_ids=only,
    )
    found, total = offering_admin.search(call.session, call.who, wanted, paging.page(call))
    items = views.network_offering_items(call.session, found)
    return responses.Listing("networkoffering", items, total)


def _offering(call: registry.Call) -> models.NetworkOffering:
    return _acted_on(call, offerings.by_uuid(call.session, call.get("id")))


def update_network_offering(call: registry.Call) -> responses.Reply:
    offering = _offering(call)
    changes = offering_admin.Changes(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        availability=call.get("availability"),
        state=call.get("state"),
        sort_key=call.get("sortkey"),
        max_connections=call.get("maxconnections"),
        tags=call.get("tags"),
    )
    offering_admin.update(call.session, offering, changes)
    return _answer(call, offering)


def delete_network_offering(call: registry.Call) -> responses.Reply:
    offering_admin.delete(call.session, _offering(call))
    return responses.Success()


_ID = P("id", T.UUID, "the id of the network offering", required=True,
        related=("listNetworkOfferings",))  # fmt: skip

COMMANDS = (
    registry.Command(
        "createNetworkOffering",
        create_network_offering,
        "Creates a network offering.",
        (
            P("name", T.STRING, "the name of the network offering", required=True),
            P("displaytext", T.STRING, "the display text of the network offering"),
            P("guestiptype", T.STRING, "guest type: Shared, Isolated or L2",
              required=True),
            P("traffictype", T.STRING, "the traffic type for the network offering (Guest)",
              required=True),
            P("supportedservices", T.LIST, "services supported by the network offering"),
            P("serviceproviderlist", T.MAP, "provider to service mapping"),
            P("servicecapabilitylist", T.MAP, "desired service capabilities (ignored)"),
            P("specifyvlan", T.BOOLEAN, "true if network offering supports vlans"),
            P("specifyipranges", T.BOOLEAN, "whether networks give their IP ranges"),
            P("availability", T.STRING, "the availability of network offering"),
            P("conservemode", T.BOOLEAN, "whether IP conserve mode is on"),
            P("ispersistent", T.BOOLEAN, "true if network offering supports persistent networks"),
            P("egressdefaultpolicy", T.BOOLEAN, "whether default egress is allowed"),
            P("forvpc", T.BOOLEAN, "true if network offering is meant to be used for VPC"),
            P("tags", T.STRING, "the tags for the network offering."),
            P("networkrate", T.INTEGER, "data transfer rate in megabits per second allowed"),
            P("maxconnections", T.INTEGER, "maximum number of concurrent connections"),
            P("serviceofferingid", T.UUID, "the virtual router offering (ignored)"),
            P("keepaliveenabled", T.BOOLEAN, "if true keepalive will be turned on (ignored)"),
            P("details", T.MAP, "Network offering details (ignored)"),
            P("enable", T.BOOLEAN, "set to true if the offering is to be enabled during creation"),
            P("domainid", T.STRING, "the ID of the containing domain(s) (ignored: public)"),
            P("zoneid", T.STRING, "the ID of the containing zone(s) (ignored: all)"),
        ),
        views.NETWORK_OFFERING,
        authorized=registry.ADMINS,
        event="NETWORK.OFFERING.CREATE",
    ),
    registry.Command(
        "listNetworkOfferings",
        list_network_offerings,
        "Lists all available network offerings.",
        (
            P("id", T.UUID, "list network offerings by ID", related=("listNetworkOfferings",)),
            P("name", T.STRING, "list network offerings by name"),
            P("displaytext", T.STRING, "list network offerings by display text"),
            P("traffictype", T.STRING, "list by traffic type"),
            P("isdefault", T.BOOLEAN, "true if need to list only default network offerings"),
            P("specifyvlan", T.BOOLEAN, "the tags for the network offering."),
            P("availability", T.STRING, "the availability of network offering"),
            P("zoneid", T.UUID, "offerings usable in the zone"),
            P("guestiptype", T.STRING, "list network offerings by guest type: shared or isolated"),
            P("state", T.STRING, "list network offerings by state"),
            P("forvpc", T.BOOLEAN, "offerings for VPC networks"),
            P("supportedservices", T.LIST, "list network offerings supporting certain services"),
            P("sourcenatsupported", T.BOOLEAN, "offerings with source NAT"),
            P("specifyipranges", T.BOOLEAN, "offerings whose networks give IP ranges"),
            P("istagged", T.BOOLEAN, "true if offering has tags specified"),
            P("tags", T.STRING, "list network offerings by tags"),
            P("networkid", T.UUID, "the ID of the network"),
            P("domainid", T.UUID, "offerings usable in the domain"),
            *paging.PARAMS,
        ),
        views.NETWORK_OFFERING,
    ),
    registry.Command(
        "updateNetworkOffering",
        update_network_offering,
        "Updates a network offering.",
        (
            _ID,
            P("name", T.STRING, "the name of the network offering"),
            P("displaytext", T.STRING, "the display text of the network offering"),
            P("availability", T.STRING, "the availability of network offering"),
            P("state", T.STRING, "update state for the network offering"),
            P("sortkey", T.INTEGER, "sort key of the network offering, integer"),
            P("maxconnections", T.INTEGER, "maximum number of concurrent connections"),
            P("tags", T.STRING, "the tags for the network offering."),
            P("keepaliveenabled", T.BOOLEAN, "if true keepalive will be turned on (ignored)"),
            P("domainid", T.STRING, "the ID of the containing domain(s) (ignored)"),
            P("zoneid", T.STRING, "the ID of the containing zone(s) (ignored)"),
        ),
        views.NETWORK_OFFERING,
        authorized=registry.ADMINS,
        event="NETWORK.OFFERING.EDIT",
    ),
    registry.Command(
        "deleteNetworkOffering",
        delete_network_offering,
        "Deletes a network offering.",
        (_ID,),
        authorized=registry.ADMINS,
        event="NETWORK.OFFERING.DELETE",
    ),
)  # fmt: skip
