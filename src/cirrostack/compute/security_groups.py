"""Security groups: an account's named sets of rules, and which VMs are in them.

Every account has a group called ``default`` (description "Default Security Group"),
created on first use as CloudStack does: when the account creates another group, authorizes
a rule on ``default`` by name, or a VM joins it (``ensure_default``). Names are unique per
account regardless of case (the unique ``live_name`` key, which also makes two concurrent
first uses create one ``default``). ``default`` cannot be deleted, nor a group VMs are in or
another group's rules name: the delete locks the group row, and joining VMs and authorizing
rules that name it lock it shared, so the checks cannot be raced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, locks, scope
from cirrostack.compute import owned
from cirrostack.db import query, unique
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import attachments as models

DEFAULT = "default"
_NAME_KEY = "uq_security_group_account_id_live_name"


def _exists(name: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"Unable to create security group, a group with name {name} already exists."
    )


def _insert(
    session: Session, owner: account_models.Account, name: str, description: str | None
) -> models.SecurityGroup:
    group = models.SecurityGroup(
        name=name, description=description, account_id=owner.id, domain_id=owner.domain_id
    )
    with unique.refusing(session, _NAME_KEY, _exists(name)):
        session.add(group)
        session.flush()
    return group


def ensure_default(session: Session, owner: account_models.Account) -> models.SecurityGroup:
    """The account's ``default`` group, created now if it has none yet."""
    found = named(session, owner.id, DEFAULT, latest=True)
    if found is not None:
        return found
    try:
        return _insert(session, owner, DEFAULT, "Default Security Group")
    except errors.InvalidParameterValue:
        found = named(session, owner.id, DEFAULT, latest=True)  # a concurrent first use won
        if found is None:
            raise
        return found


def create(
    session: Session, owner: account_models.Account, name: str, description: str | None
) -> models.SecurityGroup:
    """A new group of ``owner``'s (its ``default`` made first if missing); a name the
    account has, ``default`` included, is refused."""
    owner = locks.account(session, owner.id)
    ensure_default(session, owner)
    return _insert(session, owner, name, description)


def unknown(text: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(f"Unable to find security group {text}")


def by_uuid(session: Session, caller: access.Caller, uuid: str) -> models.SecurityGroup:
    """The group ``uuid`` names within the caller's reach; foreign is answered as missing."""
    found = owned.by_uuid(session, caller, models.SecurityGroup, uuid)
    if found is None:
        raise unknown(uuid)
    return found


def named(
    session: Session, account_id: int, name: str, *, latest: bool = False
) -> models.SecurityGroup | None:
    """The account's group ``name`` (any case), or None; ``latest``: a locking read, which
    sees rows committed after the transaction's snapshot (MariaDB's plain reads do not)."""
    statement = sa.select(models.SecurityGroup).where(
        models.SecurityGroup.account_id == account_id,
        models.SecurityGroup.live_name == sa.func.lower(sa.literal(name, sa.String())),
    )
    if latest:
        statement = statement.with_for_update(read=True).execution_options(populate_existing=True)
    return session.scalars(statement).first()


def by_name(session: Session, account_id: int, name: str) -> models.SecurityGroup:
    found = named(session, account_id, name)
    if found is None:
        raise unknown(name)
    return found


def lock(session: Session, group_id: int, *, exclusive: bool) -> models.SecurityGroup:
    """Lock the group row (re-read); InvalidParameterValue if it was deleted meanwhile."""
    found = session.scalars(
        sa.select(models.SecurityGroup)
        .where(models.SecurityGroup.id == group_id)
        .with_for_update(read=not exclusive)
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise unknown(str(group_id))
    return found


def delete(session: Session, group: models.SecurityGroup) -> None:
    """Remove a group and its rules; refused for ``default`` and while in use."""
    if group.name.lower() == DEFAULT:
        raise errors.InvalidParameterValue("The network default group can't be removed")
    lock(session, group.id, exclusive=True)
    if vm_counts(session, [group.id]).get(group.id):
        raise errors.ResourceInUse("Cannot delete group when it's in use by virtual machines")
    referenced = session.scalar(
        sa.select(sa.func.count())
        .select_from(models.SecurityGroupRule)
        .where(
            models.SecurityGroupRule.allowed_network_id == group.id,
            models.SecurityGroupRule.security_group_id != group.id,
        )
    )
    if referenced:
        raise errors.ResourceInUse(
            f"Cannot delete security group {group.name}: rules of other groups refer to it"
        )
    session.execute(
        sa.delete(models.SecurityGroupRule).where(
            models.SecurityGroupRule.security_group_id == group.id
        )
    )
    session.execute(sa.delete(models.SecurityGroup).where(models.SecurityGroup.id == group.id))


def vms_of(session: Session, group_ids: Iterable[int]) -> dict[int, list[int]]:
    """The VM ids in each group, by group id, in one query."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    found: dict[int, list[int]] = {}
    rows = session.execute(
        sa.select(models.SecurityGroupVm.security_group_id, models.SecurityGroupVm.instance_id)
        .where(models.SecurityGroupVm.security_group_id.in_(wanted))
        .order_by(models.SecurityGroupVm.id)
    )
    for group_id, vm_id in rows:
        found.setdefault(int(group_id), []).append(int(vm_id))
    return found


def vm_counts(session: Session, group_ids: Iterable[int]) -> dict[int, int]:
    return {group: len(vms) for group, vms in vms_of(session, group_ids).items()}


def add_vm(session: Session, vm_id: int, group_ids: Iterable[int]) -> None:
    """Put VM ``vm_id`` in each group (already a member: unchanged), each locked shared so
    a concurrent delete waits or has removed it (then InvalidParameterValue)."""
    wanted = sorted(set(group_ids))
    for group_id in wanted:
        lock(session, group_id, exclusive=False)
    already = set(
        session.scalars(
            sa.select(models.SecurityGroupVm.security_group_id).where(
                models.SecurityGroupVm.instance_id == vm_id
            )
        )
    )
    for group_id in wanted:
        if group_id not in already:
            session.add(models.SecurityGroupVm(security_group_id=group_id, instance_id=vm_id))
    session.flush()


@dataclass(frozen=True)
class GroupFilter:
    """listSecurityGroups' filters."""

    owners: scope.Wanted
    uuid: str | None = None
    name: str | None = None
    vm_id: int | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: GroupFilter, page: query.Page
) -> tuple[Sequence[models.SecurityGroup], int]:
    group = models.SecurityGroup
    statement = sa.select(group).where(
        scope.condition(session, caller, wanted.owners, group.account_id),
        *query.equal_to_given((group.uuid, wanted.uuid)),
        *query.named_as_given((group.name, wanted.name)),
    )
    if wanted.vm_id is not None:
        statement = statement.where(
            group.id.in_(
                sa.select(models.SecurityGroupVm.security_group_id).where(
                    models.SecurityGroupVm.instance_id == wanted.vm_id
                )
            )
        )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(group.name, wanted.keyword))
    return query.paged(session, statement.order_by(group.id), page)
