"""The only SQL that claims and releases a pool's allocated capacity (capacity contract).

A pool's allocated bytes are its ``op_host_capacity`` row of type 3 (STORAGE_ALLOCATED,
CLUSTER and ZONE pools) or 9 (LOCAL_STORAGE, HOST pools), one per pool (migration 0009).
A claim is ONE conditional UPDATE checked by its row count::

    UPDATE op_host_capacity SET used_capacity = used_capacity + :ask
     WHERE host_id = :pool AND capacity_type IN (3, 9)
       AND used_capacity + :ask <= total_capacity
       AND used_capacity + :ask <= total_capacity * :threshold

so parallel claims for the last bytes cannot both win (the database serialises the row) and
there is no window between "chosen" and "claimed". The limit is min(total, total *
``pool.storage.allocated.capacity.disablethreshold``) of the pool's row as it is when the
UPDATE runs. Release subtracts, never below 0. Neither commits: the caller owns the
transaction, and a rolled-back claim is no claim.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.allocators import candidates, pool_settings
from cirrostack.db.models import capacity
from cirrostack.db.models import storage as models

_TYPES = (candidates.STORAGE_ALLOCATED, candidates.LOCAL_STORAGE)
_ROW = capacity.HostCapacity


def claim(session: Session, pool_id: int, size: int, threshold: float) -> bool:
    """Add ``size`` to the pool's allocated bytes if they stay within the limit; True when
    claimed. ``threshold`` is the pool's allocated disable threshold (0..1)."""
    if size <= 0:
        return True
    after = _ROW.used_capacity + size
    done: Any = session.execute(
        sa.update(_ROW)
        .where(
            _ROW.host_id == pool_id,
            _ROW.capacity_type.in_(_TYPES),
            after <= _ROW.total_capacity,
            after <= _ROW.total_capacity * sa.literal(float(threshold), sa.Float),
        )
        .values(used_capacity=after)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)


def claim_on(session: Session, pool: models.StoragePool, size: int) -> bool:
    """``claim`` on a pool the caller chose itself (an admin's ``storageid``), with the
    pool's own threshold: every path into a pool passes the same limit (field lessons 1E-28)."""
    found = pool_settings.of_pool(session, pool.data_center_id, pool.id, pool.cluster_id)
    return claim(session, pool.id, size, found.allocated_threshold)


def release(session: Session, pool_id: int, size: int) -> None:
    """Subtract ``size`` from the pool's allocated bytes (never below 0): on delete, on a
    failed creation. A pool without a row is left alone."""
    if size <= 0:
        return
    session.execute(
        sa.update(_ROW)
        .where(_ROW.host_id == pool_id, _ROW.capacity_type.in_(_TYPES))
        .values(
            used_capacity=sa.case((_ROW.used_capacity > size, _ROW.used_capacity - size), else_=0)
        )
        .execution_options(synchronize_session=False)
    )
