"""What listResourceLimits, updateResourceLimit and updateResourceCount do (CloudStack's
``ResourceLimitManagerImpl`` rules).

- a user sees its own account's limits; admins those of the accounts and domains they reach;
- a limit is -1 (unlimited) or at least 0; storage limits are given in GiB;
- root admin accounts take only -1; the system account and ROOT take none;
- a domain admin may not change its own account's or its own domain's limits (it cannot raise
  itself), and a domain's limit may not exceed its parent's;
- updateResourceCount recounts from the rows that exist today and stores the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, accounts, limits, reach, resources
from cirrostack.db import query
from cirrostack.db.models import accounts as models
from cirrostack.db.models import compute, snapshots, storage
from cirrostack.db.models import limits as limit_models

ResourceType = resources.ResourceType


@dataclass(frozen=True)
class Owner:
    """The account or the domain a limit or count belongs to (``account`` None: the domain)."""

    domain: models.Domain
    account: models.Account | None = None


@dataclass(frozen=True)
class Value:
    """One limit (stored unit, -1 unlimited) or count of one owner and type."""

    owner: Owner
    kind: ResourceType
    value: int


def owner_for_list(
    session: Session, caller: access.Caller, domain: models.Domain | None, account_name: str | None
) -> Owner | None:
    """Whose limits a list shows: a user always its own account; None: nothing to show."""
    own = session.get_one(models.Account, caller.account_id)
    own_domain = session.get_one(models.Domain, own.domain_id)
    if not (caller.is_root_admin or caller.is_domain_admin) or domain is None:
        if account_name is not None and domain is not None:
            return None
        return Owner(own_domain, own)
    access.check_domain(caller, domain)
    if account_name is None:
        return Owner(domain)
    account = reach.account_by_name(session, caller, account_name, domain)
    if account is None:
        raise reach_unknown_account(account_name, domain)
    return Owner(domain, account)


def reach_unknown_account(name: str, domain: models.Domain) -> errors.InvalidParameterValue:
    """The error for an account name nobody has in ``domain``, or one out of the caller's
    reach (answered alike)."""
    return errors.InvalidParameterValue(f"Unable to find account {name} in domain {domain.uuid}")


def limit_of(session: Session, owner: Owner, kind: ResourceType) -> int:
    """The limit in force for ``owner`` (stored unit)."""
    if owner.account is not None:
        return limits.account_limit(session, owner.account, kind)
    return limits.domain_limit(session, limits.domain_chain(session, owner.domain), kind)


def limits_of(session: Session, owner: Owner, kinds: Sequence[ResourceType]) -> list[Value]:
    return [Value(owner, kind, limit_of(session, owner, kind)) for kind in kinds]


def update(
    session: Session, caller: access.Caller, owner: Owner, kind: ResourceType, given: int | None
) -> Value:
    """Set ``owner``'s limit for ``kind`` (``given`` in the API unit; None: unlimited)."""
    value = -1 if given is None else given
    if value < -1:
        raise errors.InvalidParameterValue(
            "Please specify either '-1' for an infinite limit, or a limit that is at least '0'."
        )
    stored = kind.limit_from_api(value)
    if owner.account is not None:
        _check_account_update(session, caller, owner, stored)
    else:
        _check_domain_update(session, caller, owner.domain, kind, stored)
    _store(session, owner, kind, stored)
    return Value(owner, kind, stored)


def _check_account_update(
    session: Session, caller: access.Caller, owner: Owner, stored: int
) -> None:
    account = owner.account
    assert account is not None
    if account.id == accounts.SYSTEM_ACCOUNT_ID:
        raise errors.InvalidParameterValue("Can't update system account")
    access.check_account(caller, account, owner.domain)
    if limits.is_unlimited_owner(session, account) and stored != -1:
        raise errors.InvalidParameterValue("Only -1 limit is supported for Root Admin accounts")
    if account.id == caller.account_id and not caller.is_root_admin:
        raise errors.PermissionDenied(
            f"Unable to update resource limit for their own account {account.uuid}, "
            "permission denied"
        )


def _check_domain_update(
    session: Session,
    caller: access.Caller,
    domain: models.Domain,
    kind: ResourceType,
    stored: int,
) -> None:
    access.check_domain(caller, domain)
    if domain.parent is None:
        raise errors.PermissionDenied(
            f"Cannot update resource limit for ROOT domain {domain.uuid}, permission denied"
        )
    if domain.id == caller.domain_id and not caller.is_root_admin:
        raise errors.PermissionDenied(
            f"Unable to update resource limit for domain {domain.uuid}, permission denied"
        )
    parent = session.get_one(models.Domain, domain.parent)
    ceiling = limits.domain_limit(session, limits.domain_chain(session, parent), kind)
    if ceiling >= 0 and (stored < 0 or stored > ceiling):
        shown = kind.limit_to_api(ceiling)
        raise errors.InvalidParameterValue(
            f"Domain {parent.name} (id: {parent.uuid}) has maximum allowed resource limit "
            f"{shown} for {kind.wire}, please specify a value less than or equal to {shown}"
        )


def _owner_filter(owner: Owner) -> sa.ColumnElement[bool]:
    table = limit_models.ResourceLimit
    if owner.account is not None:
        return table.account_id == owner.account.id
    return table.domain_id == owner.domain.id


def _store(session: Session, owner: Owner, kind: ResourceType, stored: int) -> None:
    """Update the row, or insert it; an insert that loses a race updates the winner's row."""
    table = limit_models.ResourceLimit
    change = (
        sa.update(table)
        .where(table.type == kind.wire, _owner_filter(owner))
        .values(max=stored)
        .execution_options(synchronize_session=False)
    )
    if session.execute(change).rowcount:  # type: ignore[attr-defined]
        return
    row = table(
        type=kind.wire,
        account_id=None if owner.account is None else owner.account.id,
        domain_id=None if owner.account is not None else owner.domain.id,
        max=stored,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except sa.exc.IntegrityError:
        session.execute(change)


_LIVE_VM = ("Destroyed", "Expunging", "Error")
_LIVE_VOLUME = ("Destroy", "Expunging", "Expunged")


def _vms(ids: Sequence[int]) -> sa.Select[Any]:
    vm = compute.VmInstance
    return sa.select(sa.func.count(vm.id)).where(
        vm.account_id.in_(ids), vm.type == "User", vm.removed.is_(None), vm.state.notin_(_LIVE_VM)
    )


def _volumes(
    column: Callable[[], sa.ColumnElement[Any]],
) -> Callable[[Sequence[int]], sa.Select[Any]]:
    def select(ids: Sequence[int]) -> sa.Select[Any]:
        volume = storage.Volume
        return sa.select(sa.func.coalesce(column(), 0)).where(
            volume.account_id.in_(ids),
            volume.removed.is_(None),
            volume.state.notin_(_LIVE_VOLUME),
        )

    return select


def _snapshots(ids: Sequence[int]) -> sa.Select[Any]:
    snapshot = snapshots.Snapshot
    return sa.select(sa.func.count(snapshot.id)).where(
        snapshot.account_id.in_(ids),
        snapshot.removed.is_(None),
        snapshot.status != "Destroyed",
    )


#: How each type is counted from today's rows; a type missing here has no rows yet (0).
_COUNTERS: dict[ResourceType, Callable[[Sequence[int]], sa.Select[Any]]] = {
    ResourceType.USER_VM: _vms,
    ResourceType.VOLUME: _volumes(lambda: sa.func.count(storage.Volume.id)),
    ResourceType.SNAPSHOT: _snapshots,
    ResourceType.PRIMARY_STORAGE: _volumes(lambda: sa.func.sum(storage.Volume.size)),
}


def _accounts_of(session: Session, owner: Owner) -> list[int]:
    if owner.account is not None:
        return [owner.account.id]
    return list(
        session.scalars(
            sa.select(models.Account.id)
            .join(models.Domain, models.Domain.id == models.Account.domain_id)
            .where(
                query.under_path(models.Domain.path, owner.domain.path),
                models.Account.removed.is_(None),
            )
        )
    )


def recount(session: Session, owner: Owner, kinds: Sequence[ResourceType]) -> list[Value]:
    """Count ``kinds`` for ``owner`` from the rows that exist, store and return the counts."""
    ids = _accounts_of(session, owner)
    found = []
    for kind in kinds:
        select = _COUNTERS.get(kind)
        total = int(session.scalar(select(ids)) or 0) if select is not None and ids else 0
        _store_count(session, owner, kind, total)
        found.append(Value(owner, kind, total))
    return found


def _store_count(session: Session, owner: Owner, kind: ResourceType, total: int) -> None:
    counter = limit_models.ResourceCount
    account_id = None if owner.account is None else owner.account.id
    domain_id = None if owner.account is not None else owner.domain.id
    column = counter.account_id if account_id is not None else counter.domain_id
    ident = account_id if account_id is not None else domain_id
    limits.ensure_counter(session, kind, account_id=account_id, domain_id=domain_id)
    session.execute(
        sa.update(counter)
        .where(counter.type == kind.wire, column == ident)
        .values(count=total)
        .execution_options(synchronize_session=False)
    )
