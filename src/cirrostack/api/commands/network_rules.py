"""Listings of the network rules a virtual router would apply: always empty.

cirrostack runs no virtual router, so no port forwarding, static NAT (IP forwarding),
firewall, egress or load-balancer rule can exist and no router either. Clients still ask:
libcloud's ``list_nodes`` calls listPortForwardingRules and listIpForwardingRules, Ansible's
modules list firewall and LB rules. An empty list is the true answer (docs/networks.md).
"""

from __future__ import annotations

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T
from cirrostack.api.registry import Field, ObjectSpec

_S = "string"


def _spec(name: str) -> ObjectSpec:
    return ObjectSpec(name, (Field("id", _S, f"the ID of the {name}"),))


def _empty(name: str) -> registry.Handler:
    def handler(call: registry.Call) -> responses.Reply:
        del call
        return responses.Listing(name, [], 0)

    return handler


_COMMON = (
    P("id", T.UUID, "Lists rule with the specified ID"),
    P("account", T.STRING, "list resources by account"),
    P("domainid", T.UUID, "list only resources belonging to the domain specified"),
    P("projectid", T.UUID, "list objects by project"),
    P("networkid", T.UUID, "list rules by network"),
    P("ipaddressid", T.UUID, "list rules by public IP address"),
    P("virtualmachineid", T.UUID, "list rules by virtual machine"),
    P("tags", T.MAP, "List resources by tags"),
    P("fordisplay", T.BOOLEAN, "list resources by display flag"),
    LISTALL,
    ISRECURSIVE,
    *paging.PARAMS,
)

_ALL = registry.ALL_ROLES
#: (command, listed object, description, authorized).
_LISTS = (
    ("listPortForwardingRules", "portforwardingrule", "Lists port forwarding rules.", _ALL),
    ("listIpForwardingRules", "ipforwardingrule", "List the IP forwarding rules", _ALL),
    ("listFirewallRules", "firewallrule", "Lists firewall rules for an IP address.", _ALL),
    ("listEgressFirewallRules", "firewallrule", "Lists egress firewall rules.", _ALL),
    ("listLoadBalancerRules", "loadbalancerrule", "Lists load balancer rules.", _ALL),
    ("listRouters", "router", "List routers.", registry.DOMAIN_ADMINS),
)

COMMANDS = tuple(
    registry.Command(command, _empty(name), text, _COMMON, _spec(name), authorized=roles)
    for command, name, text, roles in _LISTS
)
