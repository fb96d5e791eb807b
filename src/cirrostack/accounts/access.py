"""Who is calling, and what they may see and change.

Called by every service that reads or writes an owned resource. The rules (CloudStack's):

- a root admin may act on everything;
- a domain admin (or resource admin) on its own domain and every domain below it;
- a user on its own account only.

Passwords, API keys and a user's state have a stricter rule (``check_user_operation``): the user
itself, the default admin account, a caller whose role type strictly outranks the target's, or
another user of the same account (CVE-2016-6813, CVE-2024-42062, CVE-2025-47713, CVE-2025-47849).
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


def knows_domain(caller: Caller, domain: models.Domain) -> bool:
    """Whether the caller may know ``domain`` exists: one it sees, or one above its own."""
    return sees_domain(caller, domain) or caller.domain_path.startswith(domain.path)


def reaches_account(caller: Caller, account: models.Account, domain: models.Domain) -> bool:
    """Whether ``check_account`` lets the caller act on ``account`` (in ``domain``)."""
    try:
        check_account(caller, account, domain)
    except errors.PermissionDenied:
        return False
    return True


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
    return _role_type_of_kind(roles.AccountType(account.type))


def _role_type_of_kind(kind: roles.AccountType) -> roles.RoleType:
    # A kind without a role type of its own (read-only admin, project) counts as the highest.
    return roles.ROLE_TYPE_OF_ACCOUNT_TYPE.get(kind, roles.RoleType.ADMIN)


def reachable_account_types(caller: Caller) -> tuple[int, ...] | None:
    """The ``account.type`` values whose accounts the caller may reach in its subtree.

    Called by the SQL side of the reach rule (``accounts.scope``), which must agree with
    ``check_account``: None for a root admin (every type), else the types whose role type
    does not outrank the caller's (a domain admin of ROOT does not reach the root admins).
    """
    if caller.is_root_admin:
        return None
    return tuple(
        int(kind)
        for kind in roles.AccountType
        if not _role_type_of_kind(kind).outranks(caller.role_type)
    )


def reachable_accounts(caller: Caller) -> sa.ColumnElement[bool]:
    """SQL condition on ``account`` rows: the caller's own, or a type its role reaches.

    The list side of ``check_account``'s role rank, for queries that already confine the
    rows to the caller's subtree (listAccounts, listUsers, ``accounts.scope``).
    """
    types = reachable_account_types(caller)
    if types is None:
        return sa.true()
    return sa.or_(models.Account.type.in_(types), models.Account.id == caller.account_id)


#: The default admin account (CloudStack's ACCOUNT_ID_ADMIN) and the system account.
DEFAULT_ADMIN_ACCOUNT_ID, SYSTEM_ACCOUNT_ID = 2, 1


def check_user_operation(
    caller: Caller,
    user: models.User,
    role_type: roles.RoleType,
    account: models.Account,
    domain: models.Domain,
    *,
    same_account_allowed: bool = True,
) -> None:
    """Raise PermissionDenied unless the caller may set ``user``'s password or API keys, read
    its keys, or lock, disable or enable it (CloudStack's verifyCallerPrivilegeFor-
    UserOrAccountOperations, CVE-2025-47713 and CVE-2025-47849).

    Allowed: the user itself; within reach (``check_account``), the default admin account, a
    caller whose role type strictly outranks the target's, and another user of the caller's own
    account unless ``same_account_allowed`` (allow.operations.on.users.in.same.account) is
    False. Refused: another account of the same role type (CloudStack allows it for the types
    in role.types.allowed.for.operations.on.accounts.of.same.role.type; cirrostack does not,
    so one root admin cannot take over another), and any higher role type.
    """
    if user.id == caller.user_id:
        return
    check_account(caller, account, domain)
    if caller.account_id in (DEFAULT_ADMIN_ACCOUNT_ID, SYSTEM_ACCOUNT_ID):
        return
    if caller.role_type.outranks(role_type):
        return
    calling = f"[{caller.account_name}, {caller.account_uuid}]"
    if role_type is caller.role_type and account.id == caller.account_id:
        if same_account_allowed:
            return
        raise errors.PermissionDenied(
            "The user operations are not allowed by the users in the same account"
        )
    if role_type is caller.role_type:
        raise errors.PermissionDenied(
            f"The calling account {calling} is not allowed to perform this operation on users "
            "from other accounts of the same role type"
        )
    raise errors.PermissionDenied(
        f"The calling account {calling} has a lower role type than the user account "
        f"[{account.account_name}, {account.uuid}]"
    )


def check_may_grant(caller: Caller, role_type: roles.RoleType) -> None:
    """Raise PermissionDenied if the caller would create someone more powerful than itself."""
    if role_type.outranks(caller.role_type):
        raise errors.PermissionDenied(
            f"Account {caller.account_name} ({caller.role_type}) may not create "
            f"an account of role type {role_type}"
        )
