"""What the commands of account-owned objects (key pairs, groups, security groups, tags)
share: the owner a create names, and the ownership filters of a list."""

from __future__ import annotations

from cirrostack.accounts import scope
from cirrostack.api import registry
from cirrostack.api.commands import volumes
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.db.models import accounts as account_models

OWNER_PARAMS = (
    P("account", T.STRING, "an optional account for the object (with domainId)"),
    P("domainid", T.UUID, "an optional domainId for the object", related=("listDomains",)),
)
LIST_OWNER_PARAMS = (*OWNER_PARAMS, LISTALL, ISRECURSIVE)


def owner(call: registry.Call) -> account_models.Account:
    """``account`` (+ ``domainid``) if the caller reaches it, else the caller's own account
    (the rule createVolume follows: one copy of it)."""
    return volumes.owner(call)


def wanted(call: registry.Call) -> scope.Wanted:
    """The ownership filters of a list request."""
    return scope.Wanted(
        domain=domain_arg(call),
        account_name=call.get("account"),
        listall=call.get("listall", False),
        isrecursive=call.get("isrecursive", False),
    )
