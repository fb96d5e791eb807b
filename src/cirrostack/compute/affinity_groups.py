"""Affinity groups: sets of an account's VMs the planner keeps on one host (``host
affinity``) or on different hosts (``host anti-affinity``).

Names are unique per account regardless of case (the unique ``live_name`` key). A group with
VMs in it cannot be deleted, as in CloudStack: the delete locks the group row, and a VM joins
only under a shared lock of it (``add_vm``), so the check of its members cannot be raced; the
map's foreign key (no cascade) refuses it too.
"""

from __future__ import annotations

import enum
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

_NAME_KEY = "uq_affinity_group_account_id_live_name"


class GroupType(enum.StrEnum):
    """The planner's affinity processors, as listAffinityGroupTypes names them."""

    HOST_AFFINITY = "host affinity"
    HOST_ANTI_AFFINITY = "host anti-affinity"


def group_type(text: str) -> GroupType:
    """The type ``text`` names; InvalidParameterValue for any other."""
    try:
        return GroupType(text)
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Unable to create affinity group, invalid affinity group type {text}"
        ) from None


def create(
    session: Session,
    owner: account_models.Account,
    name: str,
    kind: GroupType,
    description: str | None,
) -> models.AffinityGroup:
    """A new account-wide group; a name the account has (any case) is refused."""
    owner = locks.account(session, owner.id)
    group = models.AffinityGroup(
        name=name,
        type=kind.value,
        description=description,
        account_id=owner.id,
        domain_id=owner.domain_id,
        acl_type="Account",
    )
    refusal = errors.InvalidParameterValue(
        f"Unable to create affinity group, a group with name {name} already exists."
    )
    with unique.refusing(session, _NAME_KEY, refusal):
        session.add(group)
        session.flush()
    return group


def unknown(text: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(f"Unable to find affinity group {text}")


def by_uuid(session: Session, caller: access.Caller, uuid: str) -> models.AffinityGroup:
    """The group ``uuid`` names within the caller's reach; foreign is answered as missing."""
    found = owned.by_uuid(session, caller, models.AffinityGroup, uuid)
    if found is None:
        raise unknown(uuid)
    return found


def by_name(session: Session, account_id: int, name: str) -> models.AffinityGroup:
    """The account's group ``name`` (any case); InvalidParameterValue when it has none."""
    found = session.scalars(
        sa.select(models.AffinityGroup).where(
            models.AffinityGroup.account_id == account_id,
            models.AffinityGroup.live_name == sa.func.lower(sa.literal(name, sa.String())),
        )
    ).first()
    if found is None:
        raise unknown(name)
    return found


def delete(session: Session, group: models.AffinityGroup) -> None:
    """Remove an empty group; ResourceInUse while VMs are in it."""
    locked = session.scalars(
        sa.select(models.AffinityGroup)
        .where(models.AffinityGroup.id == group.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if locked is None:
        raise unknown(group.uuid)
    if members(session, [group.id]).get(group.id):
        raise errors.ResourceInUse(
            f"Cannot delete affinity group {group.name}: it still has virtual machines"
        )
    session.execute(sa.delete(models.AffinityGroup).where(models.AffinityGroup.id == group.id))


def members(session: Session, group_ids: Iterable[int]) -> dict[int, list[int]]:
    """The VM ids in each group, by group id, in one query (groups without VMs missing)."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    found: dict[int, list[int]] = {}
    rows = session.execute(
        sa.select(models.AffinityGroupVm.affinity_group_id, models.AffinityGroupVm.instance_id)
        .where(models.AffinityGroupVm.affinity_group_id.in_(wanted))
        .order_by(models.AffinityGroupVm.id)
    )
    for group_id, vm_id in rows:
        found.setdefault(int(group_id), []).append(int(vm_id))
    return found


def add_vm(session: Session, vm_id: int, group_ids: Iterable[int]) -> None:
    """Put VM ``vm_id`` in each group (already a member: unchanged). Each group is locked
    shared first, so a concurrent delete either waits or has removed it (then
    InvalidParameterValue)."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return
    present = session.scalars(
        sa.select(models.AffinityGroup.id)
        .where(models.AffinityGroup.id.in_(wanted))
        .with_for_update(read=True)
    ).all()
    if len(present) != len(wanted):
        raise errors.InvalidParameterValue("Unable to find an affinity group the VM is to join")
    already = set(
        session.scalars(
            sa.select(models.AffinityGroupVm.affinity_group_id).where(
                models.AffinityGroupVm.instance_id == vm_id,
                models.AffinityGroupVm.affinity_group_id.in_(wanted),
            )
        )
    )
    for group_id in wanted:
        if group_id not in already:
            session.add(models.AffinityGroupVm(affinity_group_id=group_id, instance_id=vm_id))
    session.flush()


@dataclass(frozen=True)
class GroupFilter:
    """listAffinityGroups' filters."""

    owners: scope.Wanted
    uuid: str | None = None
    name: str | None = None
    type: str | None = None
    vm_id: int | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: GroupFilter, page: query.Page
) -> tuple[Sequence[models.AffinityGroup], int]:
    group = models.AffinityGroup
    statement = sa.select(group).where(
        scope.condition(session, caller, wanted.owners, group.account_id),
        *query.equal_to_given((group.uuid, wanted.uuid)),
        *query.named_as_given((group.name, wanted.name), (group.type, wanted.type)),
    )
    if wanted.vm_id is not None:
        statement = statement.where(
            group.id.in_(
                sa.select(models.AffinityGroupVm.affinity_group_id).where(
                    models.AffinityGroupVm.instance_id == wanted.vm_id
                )
            )
        )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(group.name, wanted.keyword))
    return query.paged(session, statement.order_by(group.id), page)
