"""Role types, account types, the default roles, and the rule check for a command.

A command declares which role types may call it (``registry.Command.authorized``, CloudStack's
static ``authorized`` annotation); on top of that each role has ordered rules in
``role_permissions`` (CloudStack's dynamic roles): the first rule whose pattern matches the
command name decides ALLOW or DENY, and no matching rule denies. The default roles are seeded
with a single ``*`` ALLOW rule, so out of the box the declaration alone decides.
"""

from __future__ import annotations

import enum
import fnmatch
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import accounts as models


class RoleType(enum.StrEnum):
    """``roles.role_type``, ranked from most to least powerful."""

    ADMIN = "Admin"
    RESOURCE_ADMIN = "ResourceAdmin"
    DOMAIN_ADMIN = "DomainAdmin"
    USER = "User"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def outranks(self, other: RoleType) -> bool:
        """True when this role type is strictly more powerful than ``other``."""
        return self.rank > other.rank


_RANKS = {
    RoleType.ADMIN: 3,
    RoleType.RESOURCE_ADMIN: 2,
    RoleType.DOMAIN_ADMIN: 1,
    RoleType.USER: 0,
}


class AccountType(enum.IntEnum):
    """``account.type``, stored as CloudStack's ordinal."""

    NORMAL = 0
    ADMIN = 1
    DOMAIN_ADMIN = 2
    RESOURCE_DOMAIN_ADMIN = 3
    READ_ONLY_ADMIN = 4
    PROJECT = 5


ROLE_TYPE_OF_ACCOUNT_TYPE = {
    AccountType.NORMAL: RoleType.USER,
    AccountType.ADMIN: RoleType.ADMIN,
    AccountType.DOMAIN_ADMIN: RoleType.DOMAIN_ADMIN,
    AccountType.RESOURCE_DOMAIN_ADMIN: RoleType.RESOURCE_ADMIN,
}

ACCOUNT_TYPE_OF_ROLE_TYPE = {role: kind for kind, role in ROLE_TYPE_OF_ACCOUNT_TYPE.items()}


class Permission(enum.StrEnum):
    ALLOW = "ALLOW"
    DENY = "DENY"


@dataclass(frozen=True)
class DefaultRole:
    id: int
    name: str
    type: RoleType
    description: str


DEFAULT_ROLES = (
    DefaultRole(1, "Root Admin", RoleType.ADMIN, "Default root admin role"),
    DefaultRole(2, "Resource Admin", RoleType.RESOURCE_ADMIN, "Default resource admin role"),
    DefaultRole(3, "Domain Admin", RoleType.DOMAIN_ADMIN, "Default domain admin role"),
    DefaultRole(4, "User", RoleType.USER, "Default user role"),
)


def default_role_id(role_type: RoleType) -> int:
    """The id of the seeded role for ``role_type``."""
    return next(role.id for role in DEFAULT_ROLES if role.type is role_type)


def rules_allow(session: Session, role_id: int, command: str) -> bool:
    """Whether the role's first rule matching ``command`` allows it (no match: denied)."""
    return rules_of(session, role_id).allow(command)


@dataclass(frozen=True)
class Rules:
    """A role's ordered rules, read once (listApis checks every command against them)."""

    ordered: tuple[tuple[str, str], ...]

    def allow(self, command: str) -> bool:
        """Whether the first rule matching ``command`` allows it (no match: denied). Rules
        match regardless of case, as CloudStack's ``Rule.matches`` does."""
        wanted = command.lower()
        for rule, permission in self.ordered:
            if fnmatch.fnmatchcase(wanted, rule.lower()):
                return bool(permission == Permission.ALLOW)
        return False


#: A role's rules in order (bound parameter ``role_id``); prebuilt: it runs on every call.
_RULES = (
    sa.select(models.RolePermission.rule, models.RolePermission.permission)
    .where(models.RolePermission.role_id == sa.bindparam("role_id"))
    .order_by(models.RolePermission.sort_order, models.RolePermission.id)
)


def rules_of(session: Session, role_id: int) -> Rules:
    """The role's rules in order, in one query."""
    # On the session's connection (no ORM statement handling: it runs on every call); nothing
    # that changes rules reads them back through here in the same transaction.
    rules = session.connection().execute(_RULES, {"role_id": role_id}).all()
    return Rules(tuple((str(rule), str(permission)) for rule, permission in rules))
