"""Response objects for domains, accounts, users and key pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import keys, roles, users
from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import accounts as models

_S, _B, _I, _D = "string", "boolean", "integer", "date"

DOMAIN = ObjectSpec(
    "domain",
    (
        Field("id", _S, "the ID of the domain"),
        Field("name", _S, "the name of the domain"),
        Field("path", _S, "the path of the domain, ROOT/child"),
        Field("level", _I, "the level of the domain"),
        Field("parentdomainid", _S, "the domain ID of the parent domain"),
        Field("parentdomainname", _S, "the domain name of the parent domain"),
        Field("haschild", _B, "whether the domain has one or more sub-domains"),
        Field("networkdomain", _S, "the network domain"),
        Field("state", _S, "the state of the domain"),
        Field("created", _D, "the date when this domain was created"),
    ),
)

USER = ObjectSpec(
    "user",
    (
        Field("id", _S, "the user ID"),
        Field("username", _S, "the user name"),
        Field("firstname", _S, "the user firstname"),
        Field("lastname", _S, "the user lastname"),
        Field("email", _S, "the user email address"),
        Field("state", _S, "the user state"),
        Field("created", _D, "the date and time the user account was created"),
        Field("timezone", _S, "the timezone user was created in"),
        Field("account", _S, "the account name of the user"),
        Field("accountid", _S, "the account ID of the user"),
        Field("accounttype", _I, "the account type of the user"),
        Field("domain", _S, "the domain name of the user"),
        Field("domainid", _S, "the domain ID of the user"),
        Field("roleid", _S, "the ID of the role"),
        Field("rolename", _S, "the name of the role"),
        Field("roletype", _S, "the type of the role"),
        Field("apikey", _S, "the api key of the user (never the secret key)"),
        Field("isdefault", _B, "true if user is default, false otherwise"),
        Field("usersource", _S, "the source type of the user"),
        Field("is2faenabled", _B, "true if user has two factor authentication enabled"),
    ),
)

ACCOUNT = ObjectSpec(
    "account",
    (
        Field("id", _S, "the id of the account"),
        Field("name", _S, "the name of the account"),
        Field("accounttype", _I, "account type (admin, domain-admin, user)"),
        Field("roleid", _S, "the ID of the role"),
        Field("rolename", _S, "the name of the role"),
        Field("roletype", _S, "the type of the role (Admin, ResourceAdmin, DomainAdmin, User)"),
        Field("domain", _S, "name of the Domain the account belongs too"),
        Field("domainid", _S, "id of the Domain the account belongs too"),
        Field("domainpath", _S, "path of the Domain the account belongs to"),
        Field("state", _S, "the state of the account"),
        Field("isdefault", _B, "true if account is default, false otherwise"),
        Field("networkdomain", _S, "the network domain"),
        Field("created", _D, "the date when this account was created"),
        Field("user", "list", "the list of users associated with account", USER.fields),
    ),
)

USERKEYS = ObjectSpec(
    "userkeys",
    (
        Field("apikey", _S, "the api key of the registered user"),
        Field("secretkey", _S, "the secret key of the registered user"),
    ),
)


def display_path(domain: models.Domain) -> str:
    """CloudStack's display form: ``ROOT`` for ``/``, ``ROOT/a/b`` for ``/a/b/``."""
    return "ROOT" + domain.path.rstrip("/")


def domain_item(session: Session, domain: models.Domain) -> dict[str, Any]:
    return domain_items(session, [domain])[0]


def domain_items(session: Session, found: Sequence[models.Domain]) -> list[dict[str, Any]]:
    """The domains as answers show them; parents and child counts in one query each."""
    parents = batch.by_id(session, models.Domain, [domain.parent for domain in found])
    counts = _live_children(session, [domain.id for domain in found])
    return [_domain(domain, parents.get(domain.parent or 0), counts) for domain in found]


def _live_children(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        sa.select(models.Domain.parent, sa.func.count())
        .where(models.Domain.parent.in_(ids), models.Domain.removed.is_(None))
        .group_by(models.Domain.parent)
    )
    return {int(parent): int(count) for parent, count in rows if parent is not None}


def _domain(
    domain: models.Domain, parent: models.Domain | None, children: dict[int, int]
) -> dict[str, Any]:
    return responses.compact(
        {
            "id": domain.uuid,
            "name": domain.name,
            "path": display_path(domain),
            "level": domain.level,
            "parentdomainid": parent.uuid if parent else None,
            "parentdomainname": parent.name if parent else None,
            "haschild": bool(children.get(domain.id)),
            "networkdomain": domain.network_domain,
            "state": domain.state,
            "created": responses.date(domain.created),
        }
    )


def user_item(owner: users.Owner) -> dict[str, Any]:
    user, account, domain, role = owner.user, owner.account, owner.domain, owner.role
    return responses.compact(
        {
            "id": user.uuid,
            "username": user.username,
            "firstname": user.firstname,
            "lastname": user.lastname,
            "email": user.email,
            "state": user.state,
            "created": responses.date(user.created),
            "timezone": user.timezone,
            "account": account.account_name,
            "accountid": account.uuid,
            "accounttype": account.type,
            "domain": domain.name,
            "domainid": domain.uuid,
            "roleid": role.uuid,
            "rolename": role.name,
            "roletype": role.role_type,
            "apikey": user.api_key,
            "isdefault": user.default,
            "usersource": user.source.lower(),
            "is2faenabled": False,
        }
    )


def account_item(session: Session, account: models.Account) -> dict[str, Any]:
    return account_items(session, [account])[0]


def account_items(session: Session, found: Sequence[models.Account]) -> list[dict[str, Any]]:
    """The accounts as answers show them, with their users; domains, roles and users are
    read in one query each."""
    domains = batch.by_id(session, models.Domain, [account.domain_id for account in found])
    kinds = batch.by_id(session, models.Role, [account.role_id for account in found])
    members = users.members_of(session, [account.id for account in found])
    return [
        _account(account, domains[account.domain_id], kinds[account.role_id or 0], members)
        for account in found
    ]


def _account(
    account: models.Account,
    domain: models.Domain,
    role: models.Role,
    members: dict[int, list[models.User]],
) -> dict[str, Any]:
    return responses.compact(
        {
            "id": account.uuid,
            "name": account.account_name,
            "accounttype": account.type,
            "roleid": role.uuid,
            "rolename": role.name,
            "roletype": roles.RoleType(role.role_type).value,
            "domain": domain.name,
            "domainid": domain.uuid,
            "domainpath": display_path(domain),
            "state": account.state,
            "isdefault": account.default,
            "networkdomain": account.network_domain,
            "created": responses.date(account.created),
            "user": [
                user_item(users.Owner(user, account, domain, role))
                for user in members.get(account.id, [])
            ],
        }
    )


def keys_item(pair: keys.KeyPair | None) -> dict[str, Any]:
    if pair is None:
        return {}
    return {"apikey": pair.api_key, "secretkey": pair.secret_key}
