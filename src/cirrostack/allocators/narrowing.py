"""Which pools of the zone a decision's SQL reads: the request's cluster (or pod) and the
zone-wide pools for a placement, the whole zone for an explanation.

Shared by the candidates' and the settings' statements, which are built once per narrowing
(``zone``, ``cluster``, ``pod``; ``one`` for a single pool) with bind parameters ``zone`` and
``cluster``, ``pod`` or ``pool``. A narrowed set is written as a UNION ALL of two arms, each an
equality on the composite indexes ``(data_center_id, cluster_id)`` and ``(data_center_id,
pod_id)`` of ``storage_pool`` (migration 0011): "in this cluster" and "zone-wide". Written as
``cluster_id = :cluster OR cluster_id IS NULL`` it was read through the zone index, every pool
of the zone filtered, whenever a planner lacked statistics (a fresh table; SQLite always).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack.allocators import requests
from cirrostack.db.models import infrastructure, storage

ZONE, CLUSTER, POD, ONE = "zone", "cluster", "pod", "one"


def of(request: requests.VolumeRequest, every_pool: bool) -> tuple[str, dict[str, int]]:
    """The narrowing of ``request`` and the statements' parameters for it."""
    values = {"zone": request.zone_id}
    if every_pool:
        return ZONE, values
    if request.cluster_id is not None:
        return CLUSTER, values | {"cluster": request.cluster_id}
    if request.pod_id is not None:
        return POD, values | {"pod": request.pod_id}
    return ZONE, values


def pool_ids(narrowing: str) -> Any:
    """A SELECT of the ids of the live pools in ``narrowing`` (a UNION ALL when narrowed)."""
    pool = storage.StoragePool
    live = (pool.data_center_id == sa.bindparam("zone"), pool.removed.is_(None))
    if narrowing == CLUSTER:
        return sa.union_all(
            sa.select(pool.id).where(*live, pool.cluster_id == sa.bindparam("cluster")),
            sa.select(pool.id).where(*live, pool.cluster_id.is_(None)),
        )
    if narrowing == POD:
        return sa.union_all(
            sa.select(pool.id).where(*live, pool.pod_id == sa.bindparam("pod")),
            sa.select(pool.id).where(*live, pool.pod_id.is_(None)),
        )
    if narrowing == ONE:
        return sa.select(pool.id).where(*live, pool.id == sa.bindparam("pool"))
    return sa.select(pool.id).where(*live)


def cluster_ids(narrowing: str) -> Any:
    """What ``cluster_details.cluster_id`` is compared with: the clusters the narrowing's
    pools may be in (an ``IN`` operand)."""
    cluster, pool = infrastructure.Cluster, storage.StoragePool
    if narrowing == CLUSTER:
        return [sa.bindparam("cluster", type_=sa.BigInteger)]
    if narrowing == POD:
        return sa.select(cluster.id).where(cluster.pod_id == sa.bindparam("pod"))
    if narrowing == ONE:
        return sa.select(pool.cluster_id).where(pool.id == sa.bindparam("pool"))
    return sa.select(cluster.id).where(cluster.data_center_id == sa.bindparam("zone"))
