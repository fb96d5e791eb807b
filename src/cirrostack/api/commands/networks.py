"""createNetwork, listNetworks, updateNetwork, deleteNetwork (guest networks).

createNetwork is synchronous, as in CloudStack; updateNetwork and deleteNetwork are jobs.
A network the caller may not use is answered like an unknown id (``networks.reached``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import reach
from cirrostack.accounts import scope as list_scope
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.api.views import networks as views
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import network as models
from cirrostack.db.models import physical_network as physical_models
from cirrostack.infrastructure import zones
from cirrostack.network import networks, offerings, physical

RESOURCE_TYPE = "Network"


def acted_on(call: registry.Call, network: models.Network) -> models.Network:
    call.acted_on = (RESOURCE_TYPE, network.id, network.name or network.uuid)
    return network


def answer(call: registry.Call, network: models.Network) -> responses.Reply:
    item = views.network_item(call.session, network, call.who.is_root_admin)
    return responses.Single("network", item)


def _owner(call: registry.Call, kind: networks.GuestType) -> networks.Owner:
    """Who the network is for: ACL Domain (Shared default) for a domain, else an account."""
    given = call.get("acltype")
    acl = networks.acl_type(given) if given else None
    if acl is None:
        acl = (
            networks.AclType.Domain
            if kind is networks.GuestType.Shared
            else networks.AclType.Account
        )
    if (
        acl is networks.AclType.Domain
        and kind is not networks.GuestType.Shared
        and not call.who.is_root_admin
    ):
        raise errors.PermissionDenied("Only a root admin may create a Domain-wide network")
    domain = domain_arg(call) or call.session.get_one(account_models.Domain, call.who.domain_id)
    name = call.get("account")
    if acl is networks.AclType.Domain:
        if name is not None:
            raise errors.InvalidParameterValue("account cannot be given with acltype Domain")
        caller = call.session.get_one(account_models.Account, call.who.account_id)
        subdomains = call.get("subdomainaccess")
        return networks.Owner(caller, domain, acl, True if subdomains is None else subdomains)
    if name is None:
        if domain.id != call.who.domain_id:
            raise errors.InvalidParameterValue("Specify account together with domainid")
        account = call.session.get_one(account_models.Account, call.who.account_id)
    else:
        found = reach.account_by_name(call.session, call.who, name, domain)
        if found is None:
            raise errors.InvalidParameterValue(
                f"Unable to find account {name} in domain {domain.uuid}"
            )
        account = found
    owner_domain = call.session.get_one(account_models.Domain, account.domain_id)
    return networks.Owner(account, owner_domain, acl)


def _physical(call: registry.Call) -> physical_models.PhysicalNetwork | None:
    uuid = call.get("physicalnetworkid")
    if uuid is None:
        return None
    if not call.who.is_root_admin:
        raise errors.PermissionDenied("Only a root admin may choose the physical network")
    return physical.by_uuid(call.session, uuid, "physicalnetworkid")


def create_network(call: registry.Call) -> responses.Reply:
    offering = offerings.by_uuid(call.session, call.get("networkofferingid"), "networkofferingid")
    kind = networks.guest_type(offering.guest_type or "")
    new = networks.NewNetwork(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        offering=offering,
        zone=zones.by_uuid(call.session, call.get("zoneid"), "zoneid"),
        owner=_owner(call, kind),
        physical_network=_physical(call),
        vlan=call.get("vlan"),
        gateway=call.get("gateway"),
        netmask=call.get("netmask"),
        start_ip=call.get("startip"),
        end_ip=call.get("endip"),
        network_domain=call.get("networkdomain"),
    )
    network = acted_on(call, networks.create(call.session, call.who, new))
    return answer(call, network)


def _filter_id(call: registry.Call, name: str, model: Any) -> int | None:
    """An id filter: None when not given; an unknown id matches nothing (no oracle)."""
    uuid = call.get(name)
    if uuid is None:
        return None
    found = call.session.scalar(sa.select(model.id).where(model.uuid == uuid))
    return -1 if found is None else int(found)


def list_networks(call: registry.Call) -> responses.Reply:
    wanted = networks.Filter(
        uuid=call.get("id"),
        name=call.get("name"),
        keyword=call.get("keyword"),
        zone_id=_filter_id(call, "zoneid", infrastructure.DataCenter),
        guest_type=call.get("type"),
        traffic_type=call.get("traffictype"),
        physical_network_id=_filter_id(call, "physicalnetworkid", physical_models.PhysicalNetwork),
        offering_id=_filter_id(call, "networkofferingid", models.NetworkOffering),
        acl_type=call.get("acltype"),
        is_system=call.get("issystem"),
        can_use_for_deploy=call.get("canusefordeploy"),
        owners=list_scope.Wanted(
            domain=domain_arg(call),
            account_name=call.get("account"),
            listall=call.get("listall", False),
            isrecursive=call.get("isrecursive", False),
        ),
    )
    found, total = networks.search(call.session, call.who, wanted, paging.page(call))
    items = views.network_items(call.session, found, call.who.is_root_admin)
    return responses.Listing("network", items, total)


def _reached(call: registry.Call) -> models.Network:
    return acted_on(call, networks.reached(call.session, call.who, call.get("id")))


def find_network(call: registry.Call) -> jobs.Instance:
    """At submit: the network must exist within the caller's reach (431 before any job)."""
    network = _reached(call)
    _check_may_change(call, network)
    return jobs.Instance(RESOURCE_TYPE, network.id, network.uuid)


def _check_may_change(call: registry.Call, network: models.Network) -> None:
    if network.acl_type == networks.AclType.Domain.value and not call.who.is_root_admin:
        raise errors.PermissionDenied(
            f"Account {call.who.account_name} may not change the domain-wide network {network.uuid}"
        )


def update_network(call: registry.Call) -> responses.Reply:
    network = _reached(call)
    _check_may_change(call, network)
    networks.update(call.session, network, call.get("name"), call.get("displaytext"))
    return answer(call, network)


def delete_network(call: registry.Call) -> responses.Reply:
    network = _reached(call)
    _check_may_change(call, network)
    networks.delete(call.session, network, call.who)
    return responses.Success()


_ID = P("id", T.UUID, "the ID of the network", required=True, related=("listNetworks",))

COMMANDS = (
    registry.Command(
        "createNetwork",
        create_network,
        "Creates a network.",
        (
            P("name", T.STRING, "the name of the network", required=True),
            P("displaytext", T.STRING, "the display text of the network"),
            P("networkofferingid", T.UUID, "the network offering ID", required=True,
              related=("listNetworkOfferings",)),
            P("zoneid", T.UUID, "the zone ID for the network", required=True,
              related=("listZones",)),
            P("physicalnetworkid", T.UUID, "the physical network ID the network belongs to",
              related=("listPhysicalNetworks",)),
            P("vlan", T.STRING, "the ID or VID of the network"),
            P("gateway", T.STRING, "the gateway of the network"),
            P("netmask", T.STRING, "the netmask of the network"),
            P("startip", T.STRING, "the beginning IP address in the network IP range"),
            P("endip", T.STRING, "the ending IP address in the network IP range"),
            P("networkdomain", T.STRING, "network domain"),
            P("acltype", T.STRING, "Access control type; supported values are Account and Domain"),
            P("account", T.STRING, "account that will own the network"),
            P("domainid", T.UUID, "domain ID of the account owning a network",
              related=("listDomains",)),
            P("subdomainaccess", T.BOOLEAN, "whether subdomains may use a Domain network"),
        ),
        views.NETWORK,
        event="NETWORK.CREATE",
    ),
    registry.Command(
        "listNetworks",
        list_networks,
        "Lists all available networks.",
        (
            P("id", T.UUID, "list networks by ID", related=("listNetworks",)),
            P("name", T.STRING, "list networks by name"),
            P("zoneid", T.UUID, "the zone ID of the network", related=("listZones",)),
            P("type", T.STRING, "the type of the network: Shared, Isolated or L2"),
            P("traffictype", T.STRING, "type of the traffic"),
            P("physicalnetworkid", T.UUID, "list networks by physical network id"),
            P("networkofferingid", T.UUID, "list networks by network offering ID"),
            P("acltype", T.STRING, "list networks by ACL type: Account or Domain"),
            P("issystem", T.BOOLEAN, "true if network is system, false otherwise"),
            P("canusefordeploy", T.BOOLEAN, "list networks available for vm deployment"),
            P("isdefault", T.BOOLEAN, "true if network is default (ignored)"),
            P("forvpc", T.BOOLEAN, "the network belongs to vpc (ignored: no VPCs)"),
            P("supportedservices", T.LIST, "list networks supporting certain services (ignored)"),
            P("tags", T.MAP, "List resources by tags (ignored)"),
            P("account", T.STRING, "list resources by account"),
            P("domainid", T.UUID, "list only resources belonging to the domain specified"),
            P("projectid", T.UUID, "list objects by project (no projects: ignored)"),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        views.NETWORK,
    ),
    registry.Command(
        "updateNetwork",
        update_network,
        "Updates a network.",
        (
            _ID,
            P("name", T.STRING, "the new name for the network"),
            P("displaytext", T.STRING, "the new display text for the network"),
        ),
        views.NETWORK,
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="NETWORK.UPDATE",
        prepare=find_network,
    ),
    registry.Command(
        "deleteNetwork",
        delete_network,
        "Deletes a network.",
        (_ID, P("forced", T.BOOLEAN, "Force delete a network (ignored)")),
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="NETWORK.DELETE",
        prepare=find_network,
    ),
)  # fmt: skip
