"""The candidate pools of one decision, as plain tuples, in a fixed number of queries.

One prebuilt query reads the pools with their cluster, pod and zone (names, allocation states,
the cluster's hypervisor), their allocated-capacity row (``op_host_capacity`` type 3 or 9, one
row per pool: migration 0009), their tags (a LEFT JOIN: one row per tag, rows of one pool
adjacent), the requested template's copy on each (``template_spool_ref``, unique per pool and
template) and its size; ``pool_settings`` one for the settings (read first by ``pools``); and
only when the request needs them, one each for the local pools' hosts, the owner's volume
counts and the IOPS in use. No ORM object is built per pool: the filters run over
``Candidate`` tuples.

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

from cirrostack.allocators import narrowing, pool_settings, requests
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


@functools.cache
def _pools_statement(name: str) -> Any:  # a 24-column Select, built once per narrowing
    """The candidates of narrowing ``name``: its pool ids (``narrowing.pool_ids``) joined to
    the pools, their places, capacity rows and tags; the template's copy on each pool and the
    template's size (parameter ``template``, NULL for none: nothing joins)."""
    scoped = narrowing.pool_ids(name).subquery("scoped")
    pool, cluster, pod = storage.StoragePool, infrastructure.Cluster, infrastructure.HostPod
    zone, row, tag = infrastructure.DataCenter, capacity.HostCapacity, storage.StoragePoolTag
    spool, template = templates.TemplateSpoolRef, templates.VmTemplate
    wanted = sa.bindparam("template", type_=sa.BigInteger)
    template_size = sa.select(template.size).where(template.id == wanted).scalar_subquery()
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
            tag.tag,
            tag.is_tag_a_rule,
            spool.id,
            template_size,
        )
        .select_from(scoped)
        .join(pool, pool.id == scoped.c.id)
        .join(zone, zone.id == pool.data_center_id)
        .outerjoin(cluster, cluster.id == pool.cluster_id)
        .outerjoin(pod, pod.id == pool.pod_id)
        .outerjoin(
            row,
            sa.and_(
                row.host_id == pool.id,
                row.capacity_type.in_([sa.literal(STORAGE_ALLOCATED), sa.literal(LOCAL_STORAGE)]),
            ),
        )
        .outerjoin(tag, tag.pool_id == pool.id)
        .outerjoin(spool, sa.and_(spool.pool_id == pool.id, spool.template_id == wanted))
        .order_by(pool.id, tag.id)
    )
    return statement


def in_scope(request: requests.VolumeRequest, every_pool: bool) -> Any:
    """The ids of the candidate pools, as a subquery for the other reads."""
    name, values = narrowing.of(request, every_pool)
    return narrowing.pool_ids(name).params(**values)


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


class Loaded(NamedTuple):
    """The candidates, and the bytes the template asks on a pool without its copy (the
    request's ``template_size``, else ``vm_template.size``; 0 without a template)."""

    pools: list[Candidate]
    template_size: int


def load(
    session: Session,
    request: requests.VolumeRequest,
    found_settings: pool_settings.Found,
    *,
    every_pool: bool = False,
    owner_counts: bool = False,
) -> Loaded:
    """The candidate pools of ``request`` in pool id order (CloudStack's DB order), with the
    settings ``found_settings`` read (through the session, just before) for the same
    narrowing."""
    name, narrowed = narrowing.of(request, every_pool)
    values: dict[str, int | None] = {**narrowed, "template": request.template_id}
    # On the session's connection (its transaction) without the ORM's result layer; the
    # settings' read just before went through the session and flushed what was pending.
    pools = _grouped(session.connection().execute(_pools_statement(name), values))
    if not pools:
        return Loaded([], request.template_size)
    size = request.template_size or int(pools[0][0][23] or 0)
    # A few candidates: their ids (indexed lookups); thousands: the narrowing as a subquery.
    ids = [int(row[0]) for row, _ in pools]
    scoped = ids if len(ids) <= _ID_LIST else in_scope(request, every_pool)
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
    if request.min_iops and any(row[16] is not None for row, _ in pools):
        iops = _volume_sums(session, scoped, sa.func.sum(storage.Volume.min_iops))
    found = [_candidate(row, tags, found_settings, hosts, owners, iops) for row, tags in pools]
    return Loaded(found, size)


def _grouped(rows: Any) -> list[tuple[Any, list[tuple[str, bool]]]]:
    """The joined rows folded to (the pool's first row, its tags): one row per tag."""
    pools: list[tuple[Any, list[tuple[str, bool]]]] = []
    last = None
    for row in rows:
        if row[0] != last:
            last = row[0]
            pools.append((row, []))
        if row[20] is not None:
            pools[-1][1].append((row[20], bool(row[21])))
    return pools


def _candidate(
    row: Any,  # the first row of one pool in _pools_statement's select, columns in its order
    own_tags: list[tuple[str, bool]],
    found_settings: pool_settings.Found,
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
        _tag,
        _rule,
        spool_id,
        _template_size,
    ) = row
    # Positional, without conversions the column types already make (ints, texts): this runs
    # for every pool of the zone in an explanation.
    return Candidate(
        ident,
        uuid or "",
        name,
        pool_type,
        (scope or "CLUSTER").upper(),
        status,
        hypervisor,
        cluster_id,
        pod_id,
        cluster_name,
        cluster_hypervisor,
        cluster_state,
        pod_state,
        zone_state,
        int(capacity_bytes or 0),
        int(used_bytes or 0),
        capacity_iops,
        capacity_type,
        int(allocated or 0),
        int(allocated_total or 0),
        frozenset(text.casefold() for text, rule in own_tags if not rule),
        tuple(text for text, rule in own_tags if rule),
        found_settings.pool(ident, cluster_id),
        spool_id is not None,
        frozenset(hosts.get(ident, ())),
        owners.get(ident, 0),
        iops.get(ident, 0),
    )
