"""Giving a pool's allocated capacity back, until ``allocators.pools.release`` is merged.

The capacity contract (docs: op_host_capacity per pool, type 3 STORAGE_ALLOCATED for CLUSTER
and ZONE pools, 9 LOCAL_STORAGE for HOST pools) makes the allocators package the owner of the
claim and release SQL; this module is the same release statement so volume deletion and a
failed creation can give back what ``place`` claimed before that branch lands, and is to be
replaced by a call to it at merge.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import capacity
from cirrostack.db.models import storage as models

#: CloudStack's capacity types for a pool's allocated bytes.
STORAGE_ALLOCATED, LOCAL_STORAGE = 3, 9


def capacity_type(pool: models.StoragePool) -> int:
    return LOCAL_STORAGE if (pool.scope or "").upper() == "HOST" else STORAGE_ALLOCATED


def release(session: Session, pool_id: int, size: int) -> None:
    """Subtract ``size`` from the pool's allocated bytes (never below 0)."""
    if size <= 0:
        return
    row = capacity.HostCapacity
    session.execute(
        sa.update(row)
        .where(row.host_id == pool_id, row.capacity_type.in_((STORAGE_ALLOCATED, LOCAL_STORAGE)))
        .values(
            used_capacity=sa.case((row.used_capacity > size, row.used_capacity - size), else_=0)
        )
        .execution_options(synchronize_session=False)
    )


def claim(session: Session, pool: models.StoragePool, size: int) -> bool:
    """Add ``size`` to the pool's allocated bytes if they stay within its total: ONE
    conditional UPDATE checked by rowcount (two claims racing for the last bytes cannot both
    win). The disable threshold is the allocators' (``allocators.claims``), applied there."""
    if size <= 0:
        return True
    row = capacity.HostCapacity
    done = session.execute(
        sa.update(row)
        .where(
            row.host_id == pool.id,
            row.capacity_type == capacity_type(pool),
            row.used_capacity + size <= row.total_capacity,
        )
        .values(used_capacity=row.used_capacity + size)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]
