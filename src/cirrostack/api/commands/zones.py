"""createZone, listZones, updateZone, deleteZone, listHypervisors."""

from __future__ import annotations

from typing import Any

from cirrostack import errors
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T, domain_arg
from cirrostack.api.views import infrastructure as views
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import hypervisors, zones

#: The only DHCP provider cirrostack zones have (the column is not stored).
DHCP_PROVIDER = "VirtualRouter"


def _acted_on(call: registry.Call, zone: models.DataCenter) -> models.DataCenter:
    call.acted_on = ("Zone", zone.id, zone.name)
    return zone


def _item(call: registry.Call, zone: models.DataCenter) -> dict[str, Any]:
    return views.zone_item(call.session, zone, full=call.who.is_root_admin)


def create_zone(call: registry.Call) -> responses.Reply:
    domain = domain_arg(call)
    new = zones.NewZone(
        name=call.get("name"),
        dns1=call.get("dns1"),
        internal_dns1=call.get("internaldns1"),
        network_type=call.get("networktype"),
        dns2=call.get("dns2"),
        internal_dns2=call.get("internaldns2"),
        ip6_dns1=call.get("ip6dns1"),
        ip6_dns2=call.get("ip6dns2"),
        domain=call.get("domain"),
        domain_id=domain.id if domain else None,
        guest_cidr=call.get("guestcidraddress"),
        local_storage=call.get("localstorageenabled", False),
        security_groups=call.get("securitygroupenabled", False),
        allocation_state=call.get("allocationstate"),
    )
    zone = _acted_on(call, zones.create(call.session, new))
    return responses.Single("zone", _item(call, zone))


def list_zones(call: registry.Call) -> responses.Reply:
    domain = domain_arg(call)
    wanted = zones.ZoneFilter(
        id=zones.by_uuid(call.session, call.get("id")).id if call.get("id") else None,
        name=call.get("name"),
        network_type=call.get("networktype"),
        domain_id=domain.id if domain else None,
        keyword=call.get("keyword"),
    )
    found, total = zones.search(call.session, call.who, wanted, paging.page(call))
    items = views.zone_items(call.session, found, full=call.who.is_root_admin)
    return responses.Listing("zone", items, total)


def update_zone(call: registry.Call) -> responses.Reply:
    zone = _acted_on(call, zones.by_uuid(call.session, call.get("id")))
    provider = call.get("dhcpprovider")
    if provider is not None and provider.strip().lower() != DHCP_PROVIDER.lower():
        raise errors.InvalidParameterValue(
            f"Invalid dhcpprovider {provider}: cirrostack zones use {DHCP_PROVIDER}"
        )
    changes = zones.ZoneChanges(
        name=call.get("name"),
        dns1=call.get("dns1"),
        dns2=call.get("dns2"),
        internal_dns1=call.get("internaldns1"),
        internal_dns2=call.get("internaldns2"),
        ip6_dns1=call.get("ip6dns1"),
        ip6_dns2=call.get("ip6dns2"),
        domain=call.get("domain"),
        guest_cidr=call.get("guestcidraddress"),
        local_storage=call.get("localstorageenabled"),
        allocation_state=call.get("allocationstate"),
        make_public=call.get("ispublic", False),
        details=_details(call.get("details")),
    )
    zone = zones.update(call.session, zone, changes)
    return responses.Single("zone", _item(call, zone))


def delete_zone(call: registry.Call) -> responses.Reply:
    zone = _acted_on(call, zones.by_uuid(call.session, call.get("id")))
    zones.delete(call.session, zone)
    return responses.Success()


def list_hypervisors(call: registry.Call) -> responses.Reply:
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid") if call.get("zoneid") else None
    names = hypervisors.listed(call.session, zone)
    page = paging.page(call)
    end = None if page.limit is None else page.offset + page.limit
    items = [views.hypervisor_item(name) for name in names[page.offset : end]]
    return responses.Listing("hypervisor", items, len(names))


def _details(value: dict[int, dict[str, str]] | None) -> dict[str, str]:
    """``details[0].a=1&details[0].b=2`` (CloudStack's form) as ``{"a": "1", "b": "2"}``."""
    merged: dict[str, str] = {}
    for index in sorted(value or {}):
        merged.update((value or {})[index])
    return merged


_DNS = (
    P("dns2", T.STRING, "the second DNS for the Zone"),
    P("internaldns2", T.STRING, "the second internal DNS for the Zone"),
    P("ip6dns1", T.STRING, "the first DNS for IPv6 network in the Zone"),
    P("ip6dns2", T.STRING, "the second DNS for IPv6 network in the Zone"),
    P("domain", T.STRING, "Network domain name for the networks in the zone"),
    P("guestcidraddress", T.STRING, "the guest CIDR address for the Zone"),
    P("localstorageenabled", T.BOOLEAN, "true if local storage offering enabled"),
    P("allocationstate", T.STRING, "Allocation state of this Zone: Enabled or Disabled"),
)

COMMANDS = (
    registry.Command(
        "createZone",
        create_zone,
        "Creates a Zone.",
        (
            P("name", T.STRING, "the name of the Zone", required=True),
            P("dns1", T.STRING, "the first DNS for the Zone", required=True),
            P("internaldns1", T.STRING, "the first internal DNS for the Zone", required=True),
            P(
                "networktype",
                T.STRING,
                "network type of the zone: Basic or Advanced",
                required=True,
            ),
            *_DNS,
            P("domainid", T.UUID, "the ID of the containing domain, null for public zones"),
            P("securitygroupenabled", T.BOOLEAN, "true if network is security group enabled"),
        ),
        views.ZONE,
        authorized=registry.ADMINS,
        event="ZONE.CREATE",
    ),
    registry.Command(
        "listZones",
        list_zones,
        "Lists zones",
        (
            P("id", T.UUID, "the ID of the zone", related=("listZones",)),
            P("name", T.STRING, "the name of the zone"),
            P("available", T.BOOLEAN, "true to list all available zones (all are listed)"),
            P("domainid", T.UUID, "the ID of the domain associated with the zone"),
            P("networktype", T.STRING, "the network type of the zone"),
            P("showcapacities", T.BOOLEAN, "flag to display the capacity of the zones"),
            P("tags", T.MAP, "List zones by resource tags (key/value pairs)"),
            *paging.PARAMS,
        ),
        views.ZONE,
    ),
    registry.Command(
        "updateZone",
        update_zone,
        "Updates a Zone.",
        (
            P("id", T.UUID, "the ID of the Zone", required=True, related=("listZones",)),
            P("name", T.STRING, "the name of the Zone"),
            P("dns1", T.STRING, "the first DNS for the Zone"),
            P("internaldns1", T.STRING, "the first internal DNS for the Zone"),
            *_DNS,
            P("dhcpprovider", T.STRING, "the dhcp Provider for the Zone"),
            P("details", T.MAP, "the details for the Zone"),
            P("dnssearchorder", T.LIST, "the dns search order list"),
            P("ispublic", T.BOOLEAN, "updates a private zone to public if set"),
        ),
        views.ZONE,
        authorized=registry.ADMINS,
        event="ZONE.EDIT",
    ),
    registry.Command(
        "deleteZone",
        delete_zone,
        "Deletes a Zone.",
        (P("id", T.UUID, "the ID of the Zone", required=True, related=("listZones",)),),
        authorized=registry.ADMINS,
        event="ZONE.DELETE",
    ),
    registry.Command(
        "listHypervisors",
        list_hypervisors,
        "List hypervisors",
        (
            P("zoneid", T.UUID, "the zone id for listing hypervisors.", related=("listZones",)),
            *paging.PARAMS,
        ),
        views.HYPERVISOR,
    ),
)
