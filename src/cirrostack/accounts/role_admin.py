"""Dynamic roles: create, clone, update and delete roles and their ordered rules.

Called by the role commands (root admins only, CloudStack's ``authorized = Admin``). Rules
CloudStack keeps (``RoleManagerImpl``):

- the four default roles and their rules cannot be changed or deleted;
- a role some live account uses cannot be deleted, nor change its type;
- a rule is an API name or a wildcard of letters, digits and ``*`` (``list*``);
- one rule per pattern in a role (a unique key, so a racing duplicate is refused too);
- a non-root caller never sees Admin-type roles.

The dispatcher reads the rules on every request, so a change applies to the next call.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, roles
from cirrostack.db import query
from cirrostack.db.models import accounts as models

_RULE = re.compile(r"^[a-zA-Z0-9*]+$")


def role_type_of(text: str) -> roles.RoleType:
    """The role type named ``text`` (any case); raises InvalidParameterValue otherwise."""
    for kind in roles.RoleType:
        if kind.value.lower() == text.lower():
            return kind
    raise errors.InvalidParameterValue(
        f"Invalid role type {text}: valid options are Admin, ResourceAdmin, DomainAdmin, User"
    )


def permission_of(text: str) -> roles.Permission:
    """``allow`` or ``deny`` in any case; raises InvalidParameterValue otherwise."""
    for kind in roles.Permission:
        if kind.value.lower() == text.lower():
            return kind
    raise errors.InvalidParameterValue("Values for permission parameter should be: allow or deny")


def checked_rule(rule: str) -> str:
    """``rule`` if it is an API name or wildcard; raises InvalidParameterValue otherwise."""
    if not _RULE.match(rule):
        raise errors.InvalidParameterValue(
            f"Only API names and wildcards are allowed, invalid rule provided: {rule}"
        )
    return rule


def _visible(caller: access.Caller, role: models.Role) -> bool:
    return caller.is_root_admin or role.role_type != roles.RoleType.ADMIN.value


def by_uuid(
    session: Session, caller: access.Caller, uuid: str, *, lock: bool = False
) -> models.Role:
    """The live role with ``uuid`` the caller may see; raises InvalidParameterValue
    (an Admin role a non-root caller may not see is answered like a missing one)."""
    statement = sa.select(models.Role).where(
        models.Role.uuid == uuid, models.Role.removed.is_(None)
    )
    role = session.scalars(statement.with_for_update() if lock else statement).first()
    if role is None or not _visible(caller, role):
        raise errors.InvalidParameterValue(f"Invalid role id provided: {uuid}")
    return role


def search(
    session: Session,
    caller: access.Caller,
    *,
    uuid: str | None,
    name: str | None,
    role_type: roles.RoleType | None,
    keyword: str | None,
    page: query.Page,
) -> tuple[Sequence[models.Role], int]:
    """One page of the live roles the caller may see, filtered; names match in any case."""
    statement = sa.select(models.Role).where(models.Role.removed.is_(None))
    if not caller.is_root_admin:
        statement = statement.where(models.Role.role_type != roles.RoleType.ADMIN.value)
    if uuid is not None:
        statement = statement.where(models.Role.uuid == uuid)
    if name is not None:
        statement = statement.where(sa.func.lower(models.Role.name) == name.lower())
    if role_type is not None:
        statement = statement.where(models.Role.role_type == role_type.value)
    if keyword is not None:
        statement = statement.where(query.keyword_in(keyword, models.Role.name))
    return query.paged(session, statement.order_by(models.Role.id), page)


def create(
    session: Session,
    name: str,
    role_type: roles.RoleType,
    description: str | None,
    *,
    clone_of: models.Role | None = None,
) -> models.Role:
    """A new role; a clone copies ``clone_of``'s type and rules in order."""
    if not name.strip():
        raise errors.InvalidParameterValue("Invalid role name provided")
    role = models.Role(
        name=name,
        role_type=(clone_of.role_type if clone_of is not None else role_type.value),
        description=description,
        is_default=False,
    )
    session.add(role)
    session.flush()
    if clone_of is not None:
        for rule in rules_of(session, clone_of):
            session.add(
                models.RolePermission(
                    role_id=role.id,
                    rule=rule.rule,
                    permission=rule.permission,
                    description=rule.description,
                    sort_order=rule.sort_order,
                )
            )
        session.flush()
    return role


def _check_changeable(role: models.Role, what: str) -> None:
    if role.is_default:
        raise errors.PermissionDenied(f"Default roles cannot be {what}")


def _in_use(session: Session, role: models.Role) -> bool:
    """Whether a live account has the role; a locking read, so it sees every commit."""
    found = session.scalars(
        sa.select(models.Account.id)
        .where(models.Account.role_id == role.id, models.Account.removed.is_(None))
        .limit(1)
        .with_for_update(read=True)
    ).first()
    return found is not None


def update(
    session: Session,
    role: models.Role,
    name: str | None,
    role_type: roles.RoleType | None,
    description: str | None,
) -> models.Role:
    """Change a custom role; its type only while no account uses it.

    ``role`` must have been read with ``lock=True`` (createAccount shares that lock)."""
    _check_changeable(role, "updated")
    if role_type is not None and role_type.value != role.role_type:
        if _in_use(session, role):
            raise errors.PermissionDenied(
                "Found accounts that have role in use, won't allow to change role type"
            )
        role.role_type = role_type.value
    if name is not None and name.strip():
        role.name = name
    if description is not None:
        role.description = description
    session.flush()
    return role


def delete(session: Session, role: models.Role, now: datetime.datetime) -> None:
    """Remove a custom role no live account uses, with its rules.

    ``role`` must have been read with ``lock=True``: a createAccount naming it waits."""
    _check_changeable(role, "deleted")
    if _in_use(session, role):
        raise errors.PermissionDenied(
            "Found accounts that have role in use, won't allow to delete role"
        )
    session.execute(
        sa.delete(models.RolePermission).where(models.RolePermission.role_id == role.id)
    )
    role.removed = now
    session.flush()


def rules_of(session: Session, role: models.Role) -> Sequence[models.RolePermission]:
    """The role's rules in the order the dispatcher tries them."""
    return session.scalars(
        sa.select(models.RolePermission)
        .where(models.RolePermission.role_id == role.id)
        .order_by(models.RolePermission.sort_order, models.RolePermission.id)
    ).all()


def add_rule(
    session: Session,
    role: models.Role,
    rule: str,
    permission: roles.Permission,
    description: str | None,
) -> models.RolePermission:
    """Append a rule at the end of the role's order; a duplicate pattern is refused."""
    _check_changeable(role, "given new rules")
    last = session.scalar(
        sa.select(sa.func.max(models.RolePermission.sort_order)).where(
            models.RolePermission.role_id == role.id
        )
    )
    entry = models.RolePermission(
        role_id=role.id,
        rule=checked_rule(rule),
        permission=permission.value,
        description=description,
        sort_order=(last or 0) + 1,
    )
    try:
        with session.begin_nested():
            session.add(entry)
    except sa.exc.IntegrityError:
        raise errors.InvalidParameterValue(
            f"Rule {rule} already exists for the role: {role.name}"
        ) from None
    return entry


def rule_by_uuid(session: Session, caller: access.Caller, uuid: str) -> models.RolePermission:
    """The rule with ``uuid`` of a role the caller may see; raises InvalidParameterValue."""
    entry = session.scalars(
        sa.select(models.RolePermission).where(models.RolePermission.uuid == uuid)
    ).first()
    if entry is None:
        raise errors.InvalidParameterValue(f"Invalid rule id provided: {uuid}")
    role = session.get_one(models.Role, entry.role_id)
    if not _visible(caller, role) or role.removed is not None:
        raise errors.InvalidParameterValue(f"Invalid rule id provided: {uuid}")
    return entry


def set_permission(
    session: Session, role: models.Role, entry: models.RolePermission, value: roles.Permission
) -> None:
    """Turn one rule of ``role`` to ALLOW or DENY."""
    _check_changeable(role, "changed")
    if entry.role_id != role.id:
        raise errors.InvalidParameterValue("The rule does not belong to the role")
    entry.permission = value.value
    session.flush()


def reorder(session: Session, role: models.Role, order: Sequence[models.RolePermission]) -> None:
    """Give ``role``'s rules the order ``order`` names (every rule, each once)."""
    _check_changeable(role, "changed")
    current = {entry.id for entry in rules_of(session, role)}
    if sorted(entry.id for entry in order) != sorted(current):
        raise errors.InvalidParameterValue(
            "The rule order must name every rule of the role exactly once"
        )
    for position, entry in enumerate(order):
        entry.sort_order = position
    session.flush()


def remove_rule(session: Session, entry: models.RolePermission) -> None:
    """Delete one rule of a custom role."""
    _check_changeable(session.get_one(models.Role, entry.role_id), "changed")
    session.delete(entry)
    session.flush()
