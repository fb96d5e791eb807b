"""Row locks that order creates and deletes inside a domain or an account.

The database settles these races: a create inside a domain locks that domain (and its
ancestors), a deleteDomain locks it exclusively, so one waits for the other and nothing is left
behind in a removed domain or account. Locks are always taken top-down (ROOT first, accounts
after their domains), so two of these transactions never wait on each other in a cycle.
Every row is read again under its lock: a locking read sees the latest committed version on
every backend, where MariaDB's plain reads would see the transaction's first snapshot. SQLite,
whose transactions all begin IMMEDIATE, ignores the row locks and needs none.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import accounts as models


def domain_chain(session: Session, domain_id: int, *, exclusive: bool) -> models.Domain:
    """Lock domain ``domain_id`` and its ancestors, ROOT first; return the domain, re-read.

    Called before a create, rename or delete inside a domain. Ancestors get a shared lock and
    the domain a shared or (``exclusive``) an update lock, so creates in different branches run
    in parallel, while a deleteDomain, which locks its domain exclusively, waits for every
    create below it and is waited for by every later one. Raises InvalidParameterValue when
    one of them has been removed meanwhile, as for a domain that never existed.
    """
    chain = [domain_id]
    while (parent := session.get_one(models.Domain, chain[-1]).parent) is not None:
        chain.append(parent)
    locked: models.Domain | None = None
    for depth, node_id in enumerate(reversed(chain)):
        strong = exclusive and depth == len(chain) - 1
        locked = session.scalars(
            sa.select(models.Domain)
            .where(models.Domain.id == node_id)
            .with_for_update(read=not strong)
            .execution_options(populate_existing=True)
        ).one()
        if locked.removed is not None:
            raise errors.InvalidParameterValue(f"Unable to find domain by id {locked.uuid}")
    assert locked is not None
    return locked


def account(session: Session, account_id: int) -> models.Account:
    """Lock the account's domain chain (shared), then the account; return it re-read.

    Called before creating a user in the account or removing it, so the two serialise.
    Raises InvalidParameterValue if the account or its domain was removed meanwhile.
    """
    found = session.get_one(models.Account, account_id)
    domain_chain(session, found.domain_id, exclusive=False)
    locked = session.scalars(
        sa.select(models.Account)
        .where(models.Account.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if locked.removed is not None:
        raise errors.InvalidParameterValue(f"Unable to find account by id {locked.uuid}")
    return locked
