"""Resource limits in force, and the one primitive that reserves against them.

Called by every service that creates something an account is limited in (VMs, volumes,
snapshots, CPU, memory, storage): ``reserve`` in the creating transaction, ``release`` in the
deleting one. The rules are CloudStack's (``ResourceLimitManagerImpl``):

- an account's limit is its ``resource_limit`` row, else ``max.account.*`` for that account;
  root admin accounts are unlimited; -1 is unlimited;
- a domain's limit is its own row, else the nearest ancestor's row below ROOT, else
  ``max.domain.*``; ROOT is unlimited;
- a domain's count is the sum over its whole subtree, so a domain's limit bounds all the
  accounts below it together.

``reserve`` is ONE conditional UPDATE over the account's counter and every ancestor domain's
counter, ``count + amount <= limit`` for each, checked by rowcount: two requests racing for
the last unit cannot both win on any backend (PostgreSQL and MariaDB re-check the condition on
the row they wait for; SQLite has one writer). A refused reservation changes nothing and raises
``errors.ResourceAllocation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import accounts, resources, roles
from cirrostack.config import settings
from cirrostack.db.models import accounts as models
from cirrostack.db.models import limits as limit_models

ResourceType = resources.ResourceType
Counter = limit_models.ResourceCount


def domain_chain(session: Session, domain: models.Domain) -> list[models.Domain]:
    """``domain`` and its ancestors, deepest first, ROOT last (one query)."""
    found = session.scalars(
        sa.select(models.Domain).where(
            sa.func.substr(sa.literal(domain.path), 1, sa.func.length(models.Domain.path))
            == models.Domain.path,
            models.Domain.removed.is_(None),
        )
    ).all()
    return sorted(found, key=lambda node: len(node.path), reverse=True)


def _limit_row(
    session: Session,
    kind: ResourceType,
    *,
    account_id: int | None = None,
    domain_id: int | None = None,
) -> int | None:
    column = (
        limit_models.ResourceLimit.account_id
        if account_id is not None
        else limit_models.ResourceLimit.domain_id
    )
    value = session.scalar(
        sa.select(limit_models.ResourceLimit.max).where(
            limit_models.ResourceLimit.type == kind.wire,
            column == (account_id if account_id is not None else domain_id),
        )
    )
    return None if value is None else int(value)


def is_unlimited_owner(session: Session, account: models.Account) -> bool:
    """Root admin accounts (and the system account) have no limits, as in CloudStack."""
    role = accounts.role_of(session, account)
    return roles.RoleType(role.role_type) is roles.RoleType.ADMIN


def account_limit(session: Session, account: models.Account, kind: ResourceType) -> int:
    """The limit in force for ``account`` (stored unit); -1 is unlimited."""
    if is_unlimited_owner(session, account):
        return -1
    stored = _limit_row(session, kind, account_id=account.id)
    if stored is not None:
        return stored
    default = settings.Settings(session).get(
        resources.ACCOUNT_DEFAULTS[kind], account_id=account.id
    )
    return kind.limit_from_api(default) if default >= 0 else -1


def domain_limit(session: Session, chain: Sequence[models.Domain], kind: ResourceType) -> int:
    """The limit in force for ``chain[0]`` (its ancestors follow, ROOT last); -1 unlimited."""
    if chain[0].parent is None:
        return -1
    for node in chain:
        if node.parent is None:
            break
        stored = _limit_row(session, kind, domain_id=node.id)
        if stored is not None:
            return stored
    default = settings.Settings(session).get(resources.DOMAIN_DEFAULTS[kind])
    return kind.limit_from_api(default) if default >= 0 else -1


@dataclass(frozen=True)
class _Owner:
    """One counter a reservation updates, with its limit (-1: unlimited)."""

    account_id: int | None
    domain_id: int | None
    limit: int
    label: str


def _owners(session: Session, account: models.Account, kind: ResourceType) -> list[_Owner]:
    domain = session.get_one(models.Domain, account.domain_id)
    chain = domain_chain(session, domain)
    unlimited = is_unlimited_owner(session, account)
    found = [
        _Owner(
            account.id,
            None,
            account_limit(session, account, kind),
            f"account name={account.account_name} in domain id={domain.uuid}",
        )
    ]
    for depth, node in enumerate(chain):
        limit = -1 if unlimited else domain_limit(session, chain[depth:], kind)
        found.append(_Owner(None, node.id, limit, f"domain id={node.uuid}"))
    return found


def ensure_counters(session: Session, owners: Sequence[_Owner], kind: ResourceType) -> None:
    """The counters of every owner of a reservation exist (see ``ensure_counter``)."""
    for owner in owners:
        ensure_counter(session, kind, account_id=owner.account_id, domain_id=owner.domain_id)


def ensure_counter(
    session: Session,
    kind: ResourceType,
    *,
    account_id: int | None = None,
    domain_id: int | None = None,
) -> None:
    """Create one owner's missing counter at 0; a counter another request creates meanwhile
    is refused by the unique key and simply used."""
    column = Counter.account_id if account_id is not None else Counter.domain_id
    ident = account_id if account_id is not None else domain_id
    exists = session.scalar(sa.select(Counter.id).where(Counter.type == kind.wire, column == ident))
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                Counter(type=kind.wire, account_id=account_id, domain_id=domain_id, count=0)
            )
    except sa.exc.IntegrityError:
        return


def _matches(owner: _Owner) -> sa.ColumnElement[bool]:
    if owner.account_id is not None:
        return Counter.account_id == owner.account_id
    return Counter.domain_id == owner.domain_id


def reserve(session: Session, account: models.Account, kind: ResourceType, amount: int = 1) -> None:
    """Count ``amount`` more of ``kind`` for ``account`` and each of its domains, or raise.

    Called inside the transaction that creates the resource, so a rollback returns the
    reservation. Raises ``errors.ResourceAllocation`` naming the first owner whose limit
    would be exceeded; then nothing was counted. The system account is never counted.
    """
    if amount < 0:
        raise ValueError(f"a reservation of {amount} {kind.wire}: use release")
    if amount == 0 or account.id == accounts.SYSTEM_ACCOUNT_ID:
        return
    owners = _owners(session, account, kind)
    ensure_counters(session, owners, kind)
    within = [
        sa.and_(_matches(owner), Counter.count + amount <= owner.limit)
        if owner.limit >= 0
        else _matches(owner)
        for owner in owners
    ]
    statement = (
        sa.update(Counter)
        .where(Counter.type == kind.wire, sa.or_(*within))
        .values(count=Counter.count + amount)
        .execution_options(synchronize_session=False)
    )
    savepoint = session.begin_nested()
    granted = session.execute(statement).rowcount  # type: ignore[attr-defined]
    if granted == len(owners):
        savepoint.commit()
        return
    savepoint.rollback()
    raise errors.ResourceAllocation(_refusal(session, owners, kind, amount))


def _refusal(session: Session, owners: Sequence[_Owner], kind: ResourceType, amount: int) -> str:
    for owner in owners:
        count = session.scalar(
            sa.select(Counter.count).where(Counter.type == kind.wire, _matches(owner))
        )
        if owner.limit >= 0 and int(count or 0) + amount > owner.limit:
            return (
                f"Maximum number of resources of type '{kind.wire}' for {owner.label} has "
                f"been exceeded: limit {owner.limit}, in use {count}, requested {amount}"
            )
    return f"Maximum number of resources of type '{kind.wire}' has been exceeded"


def release(session: Session, account: models.Account, kind: ResourceType, amount: int = 1) -> None:
    """Count ``amount`` less of ``kind`` for ``account`` and its domains (never below 0).

    Called in the transaction that removes the resource."""
    if amount < 0:
        raise ValueError(f"a release of {amount} {kind.wire}: use reserve")
    if amount == 0 or account.id == accounts.SYSTEM_ACCOUNT_ID:
        return
    owners = _owners(session, account, kind)
    ensure_counters(session, owners, kind)
    session.execute(
        sa.update(Counter)
        .where(Counter.type == kind.wire, sa.or_(*(_matches(owner) for owner in owners)))
        .values(count=sa.case((Counter.count > amount, Counter.count - amount), else_=0))
        .execution_options(synchronize_session=False)
    )


def count_of(
    session: Session,
    kind: ResourceType,
    *,
    account_id: int | None = None,
    domain_id: int | None = None,
) -> int:
    """The stored count of one owner (0 when it has no counter yet)."""
    column = Counter.account_id if account_id is not None else Counter.domain_id
    value = session.scalar(
        sa.select(Counter.count).where(
            Counter.type == kind.wire,
            column == (account_id if account_id is not None else domain_id),
        )
    )
    return int(value or 0)
