"""The candidate pools of one decision, as plain tuples, in a fixed number of queries.

One query reads the pools with their cluster, pod and zone (names, allocation states, the
cluster's hypervisor) and their allocated-capacity row (``op_host_capacity`` type 3 or 9, one
row per pool: migration 0009); one reads their tags; ``pool_settings`` one for the settings;
and only when the request needs them, one each for the template's copies, the local pools'
hosts, the owner's volume counts and the IOPS in use. No ORM object is built per pool: the
filters run over ``Candidate`` tuples.

The SQL narrows only by zone and, for a placement, by the request's cluster or pod (zone-wide
pools always stay): everything else (state, scope, tags, space) is judged in Python so each
candidate gets a verdict with reasons. ``every_pool`` keeps the whole zone (the explain
command), so pools of other clusters are answered too, rejected for their scope.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.allocators import pool_settings, requests
from cirrostack.db.models import capacity, infrastructure, storage, templates

#: CloudStack's capacity types for a pool's allocated bytes (capacity contract).
STORAGE_ALLOCATED, LOCAL_STORAGE = 3, 9

#: Volume states whose size no longer counts (CloudStack: state != Destroy, removed null).
_GONE = ("Destroy", "Expunging", "Expunged")

#: Up to this many candidates the other reads name their ids instead of a subquery.
_ID_LIST = 500


class Candidate(NamedTuple):
    """One pool as the filters see it; sizes in bytes, ``tags`` case-folded."""

    id: int
    uuid: str
    name: str
    pool_type: str
    scope: str
    status: str
    hypervisor: str | None
    cluster_id: int | None
    pod_id: int | None
    cluster_name: str | None
    cluster_hypervisor: str | None
    cluster_state: str | None
    pod_state: str | None
    zone_state: str
    capacity_bytes: int
    used_bytes: int
    capacity_iops: int | None
    capacity_type: int | None
    allocated: int
    allocated_total: int
    tags: frozenset[str]
    rule_tags: tuple[str, ...]
    settings: pool_settings.PoolSettings
    template_here: bool
    host_ids: frozenset[int]
    owner_volumes: int
    iops_used: int


def _pools(request: requests.VolumeRequest, every_pool: bool) -> tuple[Any, dict[str, int]]:
    """The candidates' statement (prebuilt per narrowing) and its parameters."""
    values = {"zone": request.zone_id}
    if every_pool:
        return _pools_statement("zone"), values
    if request.cluster_id is not None:
        return _pools_statement("cluster"), values | {"cluster": request.cluster_id}
    if request.pod_id is not None:
        return _pools_statement("pod"), values | {"pod": request.pod_id}
    return _pools_statement("zone"), values


@functools.cache
def _pools_statement(narrowing: str) -> Any:  # a 20-column Select, built once per narrowing
    pool, cluster, pod = storage.StoragePool, infrastructure.Cluster, infrastructure.HostPod
    zone, row = infrastructure.DataCenter, capacity.HostCapacity
    statement: Any = (
        sa.select(
            pool.id,
            pool.uuid,
            pool.name,
            pool.pool_type,
            pool.scope,
            pool.status,
            pool.hypervisor,
            pool.cluster_id,
            pool.pod_id,
            cluster.name,
            cluster.hypervisor_type,
            cluster.allocation_state,
            pod.allocation_state,
            zone.allocation_state,
            pool.capacity_bytes,
            pool.used_bytes,
            pool.capacity_iops,
            row.capacity_type,
            row.used_capacity,
            row.total_capacity,
        )
        .join(zone, zone.id == pool.data_center_id)
        .outerjoin(cluster, cluster.id == pool.cluster_id)
        .outerjoin(pod, pod.id == pool.pod_id)
        .outerjoin(
            row,
            sa.and_(
                row.host_id == pool.id,
                row.capacity_type.in_((STORAGE_ALLOCATED, LOCAL_STORAGE)),
            ),
        )
        .where(pool.data_center_id == sa.bindparam("zone"), pool.removed.is_(None))
        .order_by(pool.id)
    )
    if narrowing == "cluster":
        return statement.where(
            sa.or_(pool.cluster_id == sa.bindparam("cluster"), pool.cluster_id.is_(None))
        )
    if narrowing == "pod":
        return statement.where(sa.or_(pool.pod_id == sa.bindparam("pod"), pool.pod_id.is_(None)))
    return statement


def _narrowed(statement: Any, request: requests.VolumeRequest, every_pool: bool) -> Any:
    """``statement`` over pools limited as the decision's candidates are."""
    pool = storage.StoragePool
    if every_pool:
        return statement
    if request.cluster_id is not None:
        return statement.where(
            sa.or_(pool.cluster_id == request.cluster_id, pool.cluster_id.is_(None))
        )
    if request.pod_id is not None:
        return statement.where(sa.or_(pool.pod_id == request.pod_id, pool.pod_id.is_(None)))
    return statement


def in_scope(request: requests.VolumeRequest, every_pool: bool) -> Any:
    """The ids of the candidate pools, as a subquery for the other reads."""
    pool = storage.StoragePool
    statement = sa.select(pool.id).where(
        pool.data_center_id == request.zone_id, pool.removed.is_(None)
    )
    return _narrowed(statement, request, every_pool)


_TAGS_OF = sa.select(
    storage.StoragePoolTag.pool_id, storage.StoragePoolTag.tag, storage.StoragePoolTag.is_tag_a_rule
).where(storage.StoragePoolTag.pool_id.in_(sa.bindparam("ids", expanding=True)))


def _tags(session: Session, scoped: Any) -> dict[int, list[tuple[str, bool]]]:
    tag = storage.StoragePoolTag
    found: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    if isinstance(scoped, list):
        rows = session.execute(_TAGS_OF, {"ids": scoped})
    else:
        rows = session.execute(
            sa.select(tag.pool_id, tag.tag, tag.is_tag_a_rule).where(tag.pool_id.in_(scoped))
        )
    for pool_id, text, is_rule in rows:
        found[int(pool_id)].append((str(text), bool(is_rule)))
    return found


def _template_pools(session: Session, request: requests.VolumeRequest, scoped: Any) -> set[int]:
    if request.template_id is None:
        return set()
    ref = templates.TemplateSpoolRef
    rows = session.scalars(
        sa.select(ref.pool_id).where(
            ref.template_id == request.template_id, ref.pool_id.in_(scoped)
        )
    )
    return {int(pool_id) for pool_id in rows}


def _hosts(session: Session, request: requests.VolumeRequest, scoped: Any) -> dict[int, set[int]]:
    if request.host_id is None:
        return {}
    ref = storage.StoragePoolHostRef
    found: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(sa.select(ref.pool_id, ref.host_id).where(ref.pool_id.in_(scoped)))
    for pool_id, host_id in rows:
        found[int(pool_id)].add(int(host_id))
    return found


def _volume_sums(
    session: Session, scoped: Any, column: Any, *where: sa.ColumnElement[bool]
) -> dict[int, int]:
    volume = storage.Volume
    rows = session.execute(
        sa.select(volume.pool_id, column)
        .where(
            volume.pool_id.in_(scoped),
            volume.removed.is_(None),
            volume.state.not_in(_GONE),
            *where,
        )
        .group_by(volume.pool_id)
    )
    return {int(pool_id): int(value or 0) for pool_id, value in rows}


def template_size(session: Session, request: requests.VolumeRequest) -> int:
    """The bytes the template asks on a pool without its copy (``vm_template.size``)."""
    if request.template_id is None:
        return 0
    if request.template_size:
        return request.template_size
    size = session.scalar(
        sa.select(templates.VmTemplate.size).where(templates.VmTemplate.id == request.template_id)
    )
    return int(size or 0)


def load(
    session: Session,
    request: requests.VolumeRequest,
    *,
    every_pool: bool = False,
    owner_counts: bool = False,
) -> list[Candidate]:
    """The candidate pools of ``request`` in pool id order (CloudStack's DB order)."""
    statement, values = _pools(request, every_pool)
    rows: list[Any] = list(session.execute(statement, values))
    if not rows:
        return []
    # A few candidates: their ids (indexed lookups); thousands: the narrowing as a subquery.
    scoped = [int(r[0]) for r in rows] if len(rows) <= _ID_LIST else in_scope(request, every_pool)
    tags = _tags(session, scoped)
    found_settings = pool_settings.read(
        session, request.zone_id, [(int(r[0]), r[7]) for r in rows], scoped
    )
    here = _template_pools(session, request, scoped)
    hosts = _hosts(session, request, scoped)
    owners: dict[int, int] = {}
    if owner_counts and request.account_id is not None:
        owners = _volume_sums(
            session,
            scoped,
            sa.func.count(storage.Volume.id),
            storage.Volume.account_id == request.account_id,
        )
    iops: dict[int, int] = {}
    if request.min_iops and any(r[16] is not None for r in rows):
        iops = _volume_sums(session, scoped, sa.func.sum(storage.Volume.min_iops))
    return [_candidate(row, tags, found_settings, here, hosts, owners, iops) for row in rows]


def _candidate(
    row: Any,  # one row of _pools' select, columns in its order
    tags: dict[int, list[tuple[str, bool]]],
    found_settings: dict[int, pool_settings.PoolSettings],
    here: set[int],
    hosts: dict[int, set[int]],
    owners: dict[int, int],
    iops: dict[int, int],
) -> Candidate:
    (
        ident,
        uuid,
        name,
        pool_type,
        scope,
        status,
        hypervisor,
        cluster_id,
        pod_id,
        cluster_name,
        cluster_hypervisor,
        cluster_state,
        pod_state,
        zone_state,
        capacity_bytes,
        used_bytes,
        capacity_iops,
        capacity_type,
        allocated,
        allocated_total,
    ) = row
    pool_id = int(ident)
    own_tags = tags.get(pool_id, [])
    return Candidate(
        id=pool_id,
        uuid=str(uuid or ""),
        name=str(name),
        pool_type=str(pool_type),
        scope=str(scope or "CLUSTER").upper(),
        status=str(status),
        hypervisor=None if hypervisor is None else str(hypervisor),
        cluster_id=None if cluster_id is None else int(cluster_id),
        pod_id=None if pod_id is None else int(pod_id),
        cluster_name=None if cluster_name is None else str(cluster_name),
        cluster_hypervisor=None if cluster_hypervisor is None else str(cluster_hypervisor),
        cluster_state=None if cluster_state is None else str(cluster_state),
        pod_state=None if pod_state is None else str(pod_state),
        zone_state=str(zone_state),
        capacity_bytes=int(capacity_bytes or 0),
        used_bytes=int(used_bytes or 0),
        capacity_iops=None if capacity_iops is None else int(capacity_iops),
        capacity_type=None if capacity_type is None else int(capacity_type),
        allocated=int(allocated or 0),
        allocated_total=int(allocated_total or 0),
        tags=frozenset(text.casefold() for text, rule in own_tags if not rule),
        rule_tags=tuple(text for text, rule in own_tags if rule),
        settings=found_settings[pool_id],
        template_here=pool_id in here,
        host_ids=frozenset(hosts.get(pool_id, ())),
        owner_volumes=owners.get(pool_id, 0),
        iops_used=iops.get(pool_id, 0),
    )
