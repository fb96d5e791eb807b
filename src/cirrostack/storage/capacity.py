"""A primary pool's capacity rows in ``op_host_capacity`` (the shared contract, issue 8).

Per pool (``host_id`` = the pool's id) there are two rows:

- STORAGE_ALLOCATED (3) for CLUSTER and ZONE pools, LOCAL_STORAGE (9) for HOST pools:
  ``total`` = capacity bytes times ``storage.overprovisioning.factor`` (pool-scoped) for the
  over-provisionable types, the capacity bytes otherwise; ``used`` = the bytes allocated on the
  pool (volumes not destroyed or removed, plus template copies). Claims and releases of it are
  the allocators' (one conditional UPDATE); this module creates it, moves its total, deletes it
  and recomputes its ``used`` from the aggregates when asked (``recalculate``).
- STORAGE (2): ``total`` = capacity bytes, ``used`` = what the agents report in use.

Per NFS image store (``host_id`` = the store's id) one SECONDARY_STORAGE (6) row: its size and
use as the stats collector last read them (``store_stats``).

Migration 0009 makes (host_id, capacity_type) unique, so ``ensure`` cannot make two.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.config import keys, settings
from cirrostack.db.models import capacity as models
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as template_models
from cirrostack.protocol import storage as st

STORAGE = 2
STORAGE_ALLOCATED = 3
SECONDARY_STORAGE = 6
LOCAL_STORAGE = 9

#: Pool types whose allocation may exceed their size (reference storage §4.3; SharedMountPoint
#: since 4.19.1/4.20, #8481).
OVER_PROVISIONABLE = frozenset(
    {
        st.StoragePoolType.FILESYSTEM.value,
        st.StoragePoolType.NETWORK_FILESYSTEM.value,
        st.StoragePoolType.SHARED_MOUNT_POINT.value,
    }
)

#: Volume states whose bytes no longer count as allocated on their pool.
_GONE_STATES = ("Destroy", "Expunging", "Expunged")


def allocated_type(pool: storage_models.StoragePool) -> int:
    """The allocated-capacity type of ``pool``: 9 for a local (HOST) pool, else 3."""
    return LOCAL_STORAGE if (pool.scope or "").upper() == "HOST" else STORAGE_ALLOCATED


def factor(session: Session, pool: storage_models.StoragePool) -> float:
    """The over-provisioning factor in force for ``pool`` (1 for types that have none)."""
    if pool.pool_type not in OVER_PROVISIONABLE:
        return 1.0
    return settings.Settings(session).get(keys.STORAGE_OVERPROVISIONING_FACTOR, pool_id=pool.id)


def allocated_total(session: Session, pool: storage_models.StoragePool) -> int:
    """What the allocated row's total is for ``pool`` now."""
    return int((pool.capacity_bytes or 0) * factor(session, pool))


def ensure(session: Session, pool: storage_models.StoragePool) -> None:
    """Create the pool's two rows, or set their totals (capacity or factor changed).

    The used bytes of an existing allocated row are left alone: they are the allocators'.
    """
    now = _now()
    wanted = {
        allocated_type(pool): allocated_total(session, pool),
        STORAGE: pool.capacity_bytes or 0,
    }
    for capacity_type, total in wanted.items():
        row = _row(session, pool.id, capacity_type)
        if row is None:
            used = allocated_bytes(session, pool.id) if capacity_type != STORAGE else 0
            session.add(
                models.HostCapacity(
                    host_id=pool.id,
                    data_center_id=pool.data_center_id,
                    pod_id=pool.pod_id,
                    cluster_id=pool.cluster_id,
                    capacity_type=capacity_type,
                    total_capacity=total,
                    used_capacity=used if capacity_type != STORAGE else (pool.used_bytes or 0),
                    reserved_capacity=0,
                    update_time=now,
                )
            )
        else:
            row.total_capacity = total
            row.update_time = now
    session.flush()


def record_used(session: Session, pool: storage_models.StoragePool) -> None:
    """Write the STORAGE row from the pool's reported capacity and used bytes."""
    session.execute(
        sa.update(models.HostCapacity)
        .where(
            models.HostCapacity.host_id == pool.id,
            models.HostCapacity.capacity_type == STORAGE,
        )
        .values(
            total_capacity=pool.capacity_bytes or 0,
            used_capacity=pool.used_bytes or 0,
            update_time=_now(),
        )
    )


def delete(session: Session, pool_id: int) -> None:
    """Remove every capacity row of the pool (it is being deleted)."""
    session.execute(
        sa.delete(models.HostCapacity).where(
            models.HostCapacity.host_id == pool_id,
            models.HostCapacity.capacity_type.in_((STORAGE, STORAGE_ALLOCATED, LOCAL_STORAGE)),
        )
    )


def record_secondary(session: Session, store: storage_models.ImageStore) -> None:
    """Write the store's SECONDARY_STORAGE row from its size and use (made if missing; a
    concurrent round making it too is refused by the unique key and the row is updated)."""
    values = {
        "data_center_id": store.data_center_id,
        "total_capacity": store.total_size or 0,
        "used_capacity": store.used_bytes or 0,
        "update_time": _now(),
    }
    where = (
        models.HostCapacity.host_id == store.id,
        models.HostCapacity.capacity_type == SECONDARY_STORAGE,
    )
    updated = session.execute(sa.update(models.HostCapacity).where(*where).values(**values))
    if updated.rowcount:  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():
            session.add(
                models.HostCapacity(
                    host_id=store.id,
                    capacity_type=SECONDARY_STORAGE,
                    reserved_capacity=0,
                    **values,
                )
            )
    except sa.exc.IntegrityError:
        session.execute(sa.update(models.HostCapacity).where(*where).values(**values))


def delete_secondary(session: Session, store_id: int) -> None:
    """Remove the store's SECONDARY_STORAGE row (the store is being deleted)."""
    session.execute(
        sa.delete(models.HostCapacity).where(
            models.HostCapacity.host_id == store_id,
            models.HostCapacity.capacity_type == SECONDARY_STORAGE,
        )
    )


def allocated_bytes(session: Session, pool_id: int) -> int:
    """Σ sizes of the pool's live volumes + Σ sizes of its template copies (reference §4.3)."""
    volumes = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(storage_models.Volume.size), 0)).where(
            storage_models.Volume.pool_id == pool_id,
            storage_models.Volume.removed.is_(None),
            storage_models.Volume.state.not_in(_GONE_STATES),
        )
    )
    spool = template_models.TemplateSpoolRef
    copies = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(spool.template_size), 0)).where(
            spool.pool_id == pool_id
        )
    )
    return int(volumes or 0) + int(copies or 0)


@dataclass(frozen=True)
class Drift:
    """One pool's allocated row before and after a recalculation."""

    pool_id: int
    pool_uuid: str | None
    pool_name: str
    recorded: int
    actual: int

    @property
    def drift(self) -> int:
        return self.recorded - self.actual


def recalculate(session: Session, pool: storage_models.StoragePool) -> Drift:
    """Set the allocated row's used bytes (and total) from the aggregates; report the drift.

    The UPDATE writes the aggregate computed in the same statement's transaction, so a claim
    committed before it is counted; one racing it is serialised by the row lock the UPDATE
    takes (the allocators' claim updates the same row).
    """
    ensure(session, pool)
    row = _row(session, pool.id, allocated_type(pool))
    assert row is not None
    recorded = row.used_capacity
    actual = allocated_bytes(session, pool.id)
    row.used_capacity = actual
    row.update_time = _now()
    session.flush()
    return Drift(pool.id, pool.uuid, pool.name, recorded, actual)


def rows_of(session: Session, pool_ids: list[int]) -> dict[tuple[int, int], models.HostCapacity]:
    """The storage capacity rows of the pools, by (pool id, type): one query."""
    if not pool_ids:
        return {}
    found = session.scalars(
        sa.select(models.HostCapacity).where(
            models.HostCapacity.host_id.in_(pool_ids),
            models.HostCapacity.capacity_type.in_((STORAGE, STORAGE_ALLOCATED, LOCAL_STORAGE)),
        )
    )
    return {(row.host_id or 0, row.capacity_type): row for row in found}


def _row(session: Session, pool_id: int, capacity_type: int) -> models.HostCapacity | None:
    return session.scalars(
        sa.select(models.HostCapacity).where(
            models.HostCapacity.host_id == pool_id,
            models.HostCapacity.capacity_type == capacity_type,
        )
    ).first()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
