"""listResourceLimits, updateResourceLimit, updateResourceCount."""

from __future__ import annotations

from cirrostack import errors
from cirrostack.accounts import access, limit_admin, reach, resources
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.api.views import limits as views

_ALL = tuple(resources.ResourceType)


def _kinds(call: registry.Call) -> tuple[resources.ResourceType, ...]:
    given = call.get("resourcetype")
    return _ALL if given is None else (resources.from_ordinal(given),)


def list_resource_limits(call: registry.Call) -> responses.Reply:
    owner = limit_admin.owner_for_list(
        call.session, call.who, domain_arg(call), call.get("account")
    )
    if owner is None:
        return responses.Listing("resourcelimit", [], 0)
    found = limit_admin.limits_of(call.session, owner, _kinds(call))
    page = paging.page(call)
    end = None if page.limit is None else page.offset + page.limit
    items = [views.limit_item(value) for value in found[page.offset : end]]
    return responses.Listing("resourcelimit", items, len(found))


def _owner(call: registry.Call, *, required_domain: bool) -> limit_admin.Owner:
    domain = domain_arg(call)
    name = call.get("account")
    if domain is None:
        if required_domain or name is not None:
            raise errors.InvalidParameterValue(
                "AccountId or domainId have to be specified in order to update resource limit"
            )
        raise errors.InvalidParameterValue("Please specify a valid domain ID.")
    if name is None:
        return limit_admin.Owner(domain)
    account = reach.account_by_name(call.session, call.who, name, domain)
    if account is None:
        raise limit_admin.reach_unknown_account(name, domain)
    return limit_admin.Owner(domain, account)


def update_resource_limit(call: registry.Call) -> responses.Reply:
    owner = _owner(call, required_domain=True)
    kind = resources.from_ordinal(call.get("resourcetype"))
    value = limit_admin.update(call.session, call.who, owner, kind, call.get("max"))
    return responses.Single("resourcelimit", views.limit_item(value))


def update_resource_count(call: registry.Call) -> responses.Reply:
    owner = _owner(call, required_domain=True)
    if owner.account is not None:
        access.check_account(call.who, owner.account, owner.domain)
    else:
        access.check_domain(call.who, owner.domain)
    found = limit_admin.recount(call.session, owner, _kinds(call))
    items = [views.count_item(value) for value in found]
    return responses.Listing("resourcecount", items, len(items))


_TYPE = "Type of resource: 0 instance, 1 public IP, 2 volume, 3 snapshot, 4 template, "
_TYPE += "5 project, 6 network, 7 VPC, 8 CPU, 9 memory (MiB), 10 primary storage (GiB), "
_TYPE += "11 secondary storage (GiB)"
_ACCOUNT = P("account", T.STRING, "The account, with domainid")

COMMANDS = (
    registry.Command(
        "listResourceLimits",
        list_resource_limits,
        "Lists resource limits.",
        (
            P("id", T.LONG, "Lists resource limits by ID."),
            _ACCOUNT,
            P(
                "domainid",
                T.UUID,
                "list only resources belonging to the domain specified",
                related=("listDomains",),
            ),
            P("resourcetype", T.INTEGER, _TYPE),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        views.RESOURCELIMIT,
    ),
    registry.Command(
        "updateResourceLimit",
        update_resource_limit,
        "Updates resource limits for an account or domain.",
        (
            P("resourcetype", T.INTEGER, _TYPE, required=True),
            P("max", T.LONG, "Maximum resource limit; -1 for no limit"),
            _ACCOUNT,
            P("domainid", T.UUID, "The domain, or the account's domain", related=("listDomains",)),
        ),
        views.RESOURCELIMIT,
        authorized=registry.DOMAIN_ADMINS,
        event="RESOURCE.LIMIT.UPDATE",
    ),
    registry.Command(
        "updateResourceCount",
        update_resource_count,
        "Recalculate and update resource count for an account or domain.",
        (
            P(
                "domainid",
                T.UUID,
                "The domain, or the account's domain",
                required=True,
                related=("listDomains",),
            ),
            _ACCOUNT,
            P("resourcetype", T.INTEGER, _TYPE),
        ),
        views.RESOURCECOUNT,
        authorized=registry.DOMAIN_ADMINS,
        writes=True,  # it stores the recounted values, though CloudStack writes no event
    ),
)
