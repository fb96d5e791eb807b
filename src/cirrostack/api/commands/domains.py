"""createDomain, listDomains, updateDomain, deleteDomain."""

from __future__ import annotations

from cirrostack.accounts import access, domains, reach
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.api.views import identity
from cirrostack.db.models import accounts as models


def create_domain(call: registry.Call) -> responses.Reply:
    domain = domains.create(
        call.session,
        call.who,
        call.get("name"),
        domain_arg(call, "parentdomainid"),
        call.get("networkdomain"),
    )
    call.acted_on = ("Domain", domain.id, domain.path)
    return responses.Single("domain", identity.domain_item(call.session, domain))


def list_domains(call: registry.Call) -> responses.Reply:
    wanted = domains.DomainFilter(
        id=_id_of(domain_arg(call, "id")),
        name=call.get("name"),
        level=call.get("level"),
        keyword=call.get("keyword"),
        listall=call.get("listall", False),
        isrecursive=call.get("isrecursive", False),
    )
    found, total = domains.search(call.session, call.who, wanted, paging.page(call))
    return responses.Listing("domain", identity.domain_items(call.session, found), total)


def _id_of(domain: models.Domain | None) -> int | None:
    return None if domain is None else domain.id


def update_domain(call: registry.Call) -> responses.Reply:
    domain = reach.domain(call.session, call.who, call.get("id"), parameter="id")
    domains.update(call.session, call.who, domain, call.get("name"), call.get("networkdomain"))
    call.acted_on = ("Domain", domain.id, domain.path)
    return responses.Single("domain", identity.domain_item(call.session, domain))


def reachable_domain(call: registry.Call) -> jobs.Instance:
    """At submit: the domain exists and is in the caller's reach (531 at once otherwise)."""
    domain = reach.domain(call.session, call.who, call.get("id"), parameter="id")
    access.check_domain(call.who, domain)
    call.acted_on = ("Domain", domain.id, domain.path)
    return jobs.Instance("Domain", domain.id, domain.uuid)


def delete_domain(call: registry.Call) -> responses.Reply:
    domain = reach.domain(call.session, call.who, call.get("id"), parameter="id")
    call.acted_on = ("Domain", domain.id, domain.path)
    domains.delete(call.session, call.who, domain, cleanup=call.get("cleanup", False))
    return responses.Success()


_NETWORK_DOMAIN = P("networkdomain", T.STRING, "Network domain for networks in the domain")

COMMANDS = (
    registry.Command(
        "createDomain",
        create_domain,
        "Creates a domain",
        (
            P("name", T.STRING, "creates domain with this name", required=True),
            P(
                "parentdomainid",
                T.UUID,
                "assigns new domain a parent domain by domain ID",
                related=("listDomains",),
            ),
            _NETWORK_DOMAIN,
        ),
        identity.DOMAIN,
        authorized=registry.DOMAIN_ADMINS,
        event="DOMAIN.CREATE",
    ),
    registry.Command(
        "listDomains",
        list_domains,
        "Lists domains and provides detailed information for listed domains",
        (
            P("id", T.UUID, "List domain by domain ID.", related=("listDomains",)),
            P("name", T.STRING, "List domain by domain name."),
            P("level", T.INTEGER, "List domains by domain level."),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        identity.DOMAIN,
        authorized=registry.DOMAIN_ADMINS,
    ),
    registry.Command(
        "updateDomain",
        update_domain,
        "Updates a domain with a new name",
        (
            P("id", T.UUID, "ID of domain to update", required=True, related=("listDomains",)),
            P("name", T.STRING, "updates domain with this name"),
            _NETWORK_DOMAIN,
        ),
        identity.DOMAIN,
        authorized=registry.DOMAIN_ADMINS,
        event="DOMAIN.UPDATE",
    ),
    registry.Command(
        "deleteDomain",
        delete_domain,
        "Deletes a specified domain",
        (
            P("id", T.UUID, "ID of domain to delete", required=True, related=("listDomains",)),
            P(
                "cleanup",
                T.BOOLEAN,
                "true if all domain resources (child domains, accounts) have to be cleaned up",
            ),
        ),
        is_async=True,
        authorized=registry.DOMAIN_ADMINS,
        instance_type="Domain",
        prepare=reachable_domain,
        event="DOMAIN.DELETE",
    ),
)
