"""Instance groups: an account's labels for its VMs, at most one per VM.

A name is unique among the account's live groups regardless of case (the unique
``live_name`` key decides races). A removed group frees its name; its VMs leave it.
``assign`` is deployVirtualMachine's ``group``: the group is created when the account has
none of that name, and a concurrent creator of the same name is joined, not refused.
"""

from __future__ import annotations

import datetime
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

_NAME_KEY = "uq_instance_group_account_id_live_name"


def _exists(name: str, account: account_models.Account) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"Unable to create vm group, a group with name {name} already exists for account "
        f"{account.account_name}"
    )


def create(session: Session, owner: account_models.Account, name: str) -> models.InstanceGroup:
    """A new group of ``owner``'s; a live group of that name (any case) is refused."""
    owner = locks.account(session, owner.id)
    group = models.InstanceGroup(account_id=owner.id, name=name)
    with unique.refusing(session, _NAME_KEY, _exists(name, owner)):
        session.add(group)
        session.flush()
    return group


def by_uuid(session: Session, caller: access.Caller, uuid: str) -> models.InstanceGroup:
    """The live group ``uuid`` names within the caller's reach; a foreign one is answered
    exactly like a missing one."""
    found = owned.by_uuid(
        session, caller, models.InstanceGroup, uuid, models.InstanceGroup.removed.is_(None)
    )
    if found is None:
        raise errors.InvalidParameterValue(f"unable to find a vm group with id {uuid}")
    return found


def by_name(
    session: Session, account_id: int, name: str, *, latest: bool = False
) -> models.InstanceGroup | None:
    """The account's live group ``name`` (any case), or None. ``latest``: a locking read,
    which sees rows committed after the transaction's snapshot (MariaDB's plain reads do not)."""
    statement = sa.select(models.InstanceGroup).where(
        models.InstanceGroup.account_id == account_id,
        models.InstanceGroup.live_name == sa.func.lower(sa.literal(name, sa.String())),
    )
    if latest:
        statement = statement.with_for_update(read=True).execution_options(populate_existing=True)
    return session.scalars(statement).first()


def rename(session: Session, group: models.InstanceGroup, name: str) -> models.InstanceGroup:
    """updateInstanceGroup: a name another live group of the account has is refused."""
    owner = session.get_one(account_models.Account, group.account_id)
    with unique.refusing(session, _NAME_KEY, _exists(name, owner)):
        group.name = name
        session.flush()
    return group


def delete(session: Session, group: models.InstanceGroup, now: datetime.datetime) -> None:
    """Remove the group; its VMs leave it (they stay, ungrouped)."""
    session.execute(
        sa.delete(models.InstanceGroupVm).where(models.InstanceGroupVm.group_id == group.id)
    )
    group.removed = now
    session.flush()


def assign(session: Session, vm_id: int, account_id: int, group_name: str) -> models.InstanceGroup:
    """Put VM ``vm_id`` in account ``account_id``'s group ``group_name``, created when
    missing (deployVirtualMachine ``group``); the VM leaves any group it was in."""
    group = by_name(session, account_id, group_name)
    if group is None:
        group = _create_or_join(session, account_id, group_name)
    # Read, then change the one row by key or insert: a DELETE of a VM's absent row would
    # take InnoDB gap locks that concurrent inserts of other VMs deadlock on.
    member = session.scalars(
        sa.select(models.InstanceGroupVm).where(models.InstanceGroupVm.instance_id == vm_id)
    ).first()
    if member is None:
        session.add(models.InstanceGroupVm(group_id=group.id, instance_id=vm_id))
    else:
        member.group_id = group.id
    session.flush()
    return group


def leave(session: Session, vm_id: int) -> None:
    """VM ``vm_id`` leaves its group, if it is in one (expunge, as CloudStack's).

    Read first, then delete by key: a DELETE of an absent row would take InnoDB gap locks."""
    member = session.scalars(
        sa.select(models.InstanceGroupVm).where(models.InstanceGroupVm.instance_id == vm_id)
    ).first()
    if member is not None:
        session.delete(member)
        session.flush()


def _create_or_join(session: Session, account_id: int, name: str) -> models.InstanceGroup:
    owner = session.get_one(account_models.Account, account_id)
    try:
        return create(session, owner, name)
    except errors.InvalidParameterValue:
        found = by_name(session, account_id, name, latest=True)  # a concurrent creator won
        if found is None:
            raise
        return found


def of_vms(session: Session, vm_ids: Iterable[int]) -> dict[int, models.InstanceGroup]:
    """Each VM's live group, by VM id, in one query (VMs without a group are missing)."""
    wanted = sorted(set(vm_ids))
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(models.InstanceGroupVm.instance_id, models.InstanceGroup)
        .join(models.InstanceGroup, models.InstanceGroup.id == models.InstanceGroupVm.group_id)
        .where(
            models.InstanceGroupVm.instance_id.in_(wanted), models.InstanceGroup.removed.is_(None)
        )
    )
    return {int(vm_id): group for vm_id, group in rows}


@dataclass(frozen=True)
class GroupFilter:
    """listInstanceGroups' filters."""

    owners: scope.Wanted
    uuid: str | None = None
    name: str | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: GroupFilter, page: query.Page
) -> tuple[Sequence[models.InstanceGroup], int]:
    group = models.InstanceGroup
    statement = sa.select(group).where(
        group.removed.is_(None),
        scope.condition(session, caller, wanted.owners, group.account_id),
        *query.equal_to_given((group.uuid, wanted.uuid)),
        *query.named_as_given((group.name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(group.name, wanted.keyword))
    return query.paged(session, statement.order_by(group.id), page)
