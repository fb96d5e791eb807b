"""Who is calling, and what they may see and change.

Called by every service that reads or writes an owned resource. The rules (CloudStack's):

- a root admin may act on everything;
- a domain admin (or resource admin) on its own domain and every domain below it;
- a user on its own account only.

Secret material has a stricter rule (``check_key_access``): only the user itself, or a caller
whose role type strictly outranks the target's, may read or reset API keys (CVE-2016-6813,
CVE-2024-42062, CVE-2025-47849).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import roles
from cirrostack.db import query
from cirrostack.db.models import accounts as models


@dataclass(frozen=True)
class Caller:
    """The authenticated user behind a request, with what access decisions need."""

    user_id: int
    user_uuid: str
    username: str
    account_id: int
    account_uuid: str
    account_name: str
    account_type: roles.AccountType
    role_id: int
    role_type: roles.RoleType
    domain_id: int
    domain_uuid: str
    domain_path: str

    @property
    def is_root_admin(self) -> bool:
        return self.role_type is roles.RoleType.ADMIN

    @property
    def is_domain_admin(self) -> bool:
        return self.role_type in (roles.RoleType.DOMAIN_ADMIN, roles.RoleType.RESOURCE_ADMIN)


def caller_of(session: Session, user: models.User) -> Caller:
    """Build the Caller for an authenticated ``user`` (its account, role and domain).

    No statement when the session already holds them (authentication loaded them); else one.
    """
    account = query.held(session, models.Account, user.account_id)
    domain = query.held(session, models.Domain, account.domain_id) if account else None
    role = query.held(session, models.Role, account.role_id) if account else None
    if account is None or domain is None or role is None:
        account, domain, role = session.execute(
            sa.select(models.Account, models.Domain, models.Role)
            .join(models.Domain, models.Domain.id == models.Account.domain_id)
            .join(models.Role, models.Role.id == models.Account.role_id)
            .where(models.Account.id == user.account_id)
        ).one()
    return Caller(
        user_id=user.id,
        user_uuid=user.uuid,
        username=user.username,
        account_id=account.id,
        account_uuid=account.uuid,
        account_name=account.account_name,
        account_type=roles.AccountType(account.type),
        role_id=role.id,
        role_type=roles.RoleType(role.role_type),
        domain_id=domain.id,
        domain_uuid=domain.uuid,
        domain_path=domain.path,
    )


def sees_domain(caller: Caller, domain: models.Domain) -> bool:
    """Whether ``domain`` is the caller's own domain or below it (admins see every domain)."""
    return caller.is_root_admin or domain.path.startswith(caller.domain_path)


def check_domain(caller: Caller, domain: models.Domain) -> None:
    """Raise PermissionDenied unless the caller may act in ``domain``."""
    if not sees_domain(caller, domain):
        raise errors.PermissionDenied(
            f"Account {caller.account_name} does not have permission to access domain {domain.uuid}"
        )


def check_account(caller: Caller, account: models.Account, domain: models.Domain) -> None:
    """Raise PermissionDenied unless the caller may act on ``account`` (in ``domain``).

    A domain admin reaches the accounts of its subtree whose role type does not outrank its
    own: a domain admin in ROOT does not reach the root admins (CVE-2025-47713's lesson).
    """
    if caller.is_root_admin or account.id == caller.account_id:
        return
    if (
        caller.is_domain_admin
        and domain.path.startswith(caller.domain_path)
        and not _role_type_of(account).outranks(caller.role_type)
    ):
        return
    raise errors.PermissionDenied(
        f"Account {caller.account_name} does not have permission to access account {account.uuid}"
    )


def _role_type_of(account: models.Account) -> roles.RoleType:
    kind = roles.AccountType(account.type)
    return roles.ROLE_TYPE_OF_ACCOUNT_TYPE.get(kind, roles.RoleType.ADMIN)


def check_key_access(
    caller: Caller,
    user: models.User,
    role_type: roles.RoleType,
    account: models.Account,
    domain: models.Domain,
) -> None:
    """Raise PermissionDenied unless the caller may read or reset ``user``'s API keys."""
    if user.id == caller.user_id:
        return
    check_account(caller, account, domain)
    if not caller.role_type.outranks(role_type):
        raise errors.PermissionDenied(
            f"Account {caller.account_name} may not access the keys of user {user.uuid}: "
            "only the user itself or a strictly higher role may"
        )


def check_may_grant(caller: Caller, role_type: roles.RoleType) -> None:
    """Raise PermissionDenied if the caller would create someone more powerful than itself."""
    if role_type.outranks(caller.role_type):
        raise errors.PermissionDenied(
            f"Account {caller.account_name} ({caller.role_type}) may not create "
            f"an account of role type {role_type}"
        )
