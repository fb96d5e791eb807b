"""Primary pools with their capacity rows, made directly, following the capacity contract
(until the pools branch's createStoragePool lands, and for worlds too big for the API).

A pool's allocated row: ``op_host_capacity`` type 3 (CLUSTER/ZONE) or 9 (HOST), ``host_id``
the pool's id, ``total_capacity`` = capacity * ``storage.overprovisioning.factor`` for
over-provisionable pool types, ``used_capacity`` the allocated bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cirrostack.allocators import pool_filters
from cirrostack.db.models import capacity, infrastructure, storage

GIB = 1 << 30


def pool(
    session: Session,
    zone: infrastructure.DataCenter,
    *,
    name: str,
    cluster: infrastructure.Cluster | None = None,
    scope: str = "CLUSTER",
    pool_type: str = "NetworkFilesystem",
    capacity_bytes: int = 100 * GIB,
    used_bytes: int = 0,
    allocated: int = 0,
    factor: float = 1.0,
    status: str = "Up",
    tags: Sequence[str] = (),
    rule_tags: Sequence[str] = (),
    hypervisor: str | None = None,
    host: infrastructure.Host | None = None,
    capacity_iops: int | None = None,
) -> storage.StoragePool:
    """A pool row, its tags and its allocated capacity row; flushed, not committed."""
    row = storage.StoragePool(
        name=name,
        pool_type=pool_type,
        host_address="10.0.0.2",
        path=f"/{name}",
        data_center_id=zone.id,
        pod_id=None if cluster is None or scope == "ZONE" else cluster.pod_id,
        cluster_id=None if cluster is None or scope == "ZONE" else cluster.id,
        scope=scope,
        hypervisor=hypervisor,
        capacity_bytes=capacity_bytes,
        used_bytes=used_bytes,
        capacity_iops=capacity_iops,
        status=status,
    )
    session.add(row)
    session.flush()
    for tag in tags:
        session.add(storage.StoragePoolTag(pool_id=row.id, tag=tag, is_tag_a_rule=False))
    for tag in rule_tags:
        session.add(storage.StoragePoolTag(pool_id=row.id, tag=tag, is_tag_a_rule=True))
    if host is not None:
        session.add(storage.StoragePoolHostRef(host_id=host.id, pool_id=row.id))
    over = factor if pool_type in pool_filters.OVERPROVISIONABLE else 1.0
    session.add(
        capacity.HostCapacity(
            host_id=row.id,
            data_center_id=zone.id,
            pod_id=row.pod_id,
            cluster_id=row.cluster_id,
            used_capacity=allocated,
            reserved_capacity=0,
            total_capacity=int(capacity_bytes * over),
            capacity_type=9 if scope == "HOST" else 3,
        )
    )
    session.flush()
    return row


def allocated(session: Session, pool_id: int) -> int:
    """The pool's allocated bytes as the database holds them now."""
    row = (
        session.query(capacity.HostCapacity)
        .filter(
            capacity.HostCapacity.host_id == pool_id,
            capacity.HostCapacity.capacity_type.in_((3, 9)),
        )
        .one()
    )
    session.refresh(row)
    return int(row.used_capacity)
