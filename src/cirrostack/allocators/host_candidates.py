"""The hosts a placement judges, loaded in a fixed number of statements.

One query reads the routing hosts in scope with their cluster, pod and zone states and their
MEMORY and CPU capacity rows (two LEFT JOINs on ``op_host_capacity``); one their tags; one the
clusters' summed capacity (for the disable thresholds and the cluster order); the settings in
a fixed few (``config.settings``); only for the algorithms that count an owner's VMs, one more
for the account's VMs per host and pod. The statements' count does not grow with the hosts.

Scope: every live host of the zone for an explanation; for a placement, the hosts of the
requested cluster, else pod, else the zone, and only the requested host when ``host_id`` is
set (CloudStack checks that host alone). Hosts of another type than Routing are read only when
named by ``host_id``, so the explanation can say why they do not qualify.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cirrostack.allocators import host_requests
from cirrostack.config import keys, settings
from cirrostack.config.definitions import Scope
from cirrostack.db.models import capacity, compute, infrastructure
from cirrostack.infrastructure import capacity as host_capacity

ROUTING = "Routing"
_MEMORY = int(host_capacity.CapacityType.MEMORY)
_CPU = int(host_capacity.CapacityType.CPU)
#: VM states that count for the owner's dispersion (CloudStack: Starting and Running).
_COUNTED_STATES = ("Starting", "Running")


class Amount(NamedTuple):
    """One capacity row's figures (all 0 when the host has no row yet)."""

    used: int
    reserved: int
    total: int

    @property
    def free(self) -> int:
        return self.total - self.used - self.reserved


class HostCandidate(NamedTuple):
    id: int
    uuid: str
    name: str
    type: str
    status: str
    resource_state: str
    hypervisor: str | None
    cpus: int
    speed: int
    zone_id: int
    pod_id: int | None
    cluster_id: int | None
    zone_state: str
    pod_state: str | None
    cluster_state: str | None
    memory: Amount
    cpu: Amount
    tags: frozenset[str]


@dataclass(frozen=True)
class ClusterLoad:
    """A cluster's summed Enabled capacity rows: what its hosts have committed and offer."""

    cpu_committed: int = 0
    cpu_total: int = 0
    memory_committed: int = 0
    memory_total: int = 0


@dataclass(frozen=True)
class PlannerSettings:
    """The settings one decision reads, once."""

    algorithm: str
    order_clusters_by: str
    threshold_enabled: bool
    admin_on_disabled: bool
    cpu_threshold: Mapping[int, float]
    memory_threshold: Mapping[int, float]


@dataclass(frozen=True)
class Loaded:
    hosts: list[HostCandidate]
    clusters: Mapping[int, ClusterLoad]
    settings: PlannerSettings
    #: The owner's Starting/Running VMs by host and by pod (empty unless the algorithm counts).
    vms_by_host: Mapping[int, int]
    vms_by_pod: Mapping[int, int]


def load(
    session: Session,
    request: host_requests.HostRequest,
    *,
    every_host: bool = False,
    count_vms: bool | None = None,
) -> Loaded:
    """The hosts in scope and what judging them needs (see the module's docstring).

    ``count_vms`` None: count the owner's VMs when the algorithm in force needs them.
    """
    hosts = _hosts(session, request, every_host)
    cluster_ids = sorted({host.cluster_id for host in hosts if host.cluster_id is not None})
    found = _settings(session, cluster_ids)
    if count_vms is None:
        count_vms = found.algorithm.startswith("user")
    by_host, by_pod = _vm_counts(session, request) if count_vms else ({}, {})
    return Loaded(hosts, _clusters(session, request.zone_id, cluster_ids), found, by_host, by_pod)


class _Shape(NamedTuple):
    """What the WHERE clause depends on; one prebuilt pair of statements per shape."""

    every_host: bool
    host: bool
    cluster: bool
    pod: bool


def _shape(request: host_requests.HostRequest, every_host: bool) -> _Shape:
    return _Shape(
        every_host, request.host_id is not None, request.cluster_id is not None,
        request.pod_id is not None,
    )  # fmt: skip


def _parameters(request: host_requests.HostRequest) -> dict[str, Any]:
    return {
        "zone": request.zone_id,
        "host": request.host_id,
        "cluster": request.cluster_id,
        "pod": request.pod_id,
    }


def _in_scope(shape: _Shape) -> list[Any]:
    host = infrastructure.Host
    where: list[Any] = [host.data_center_id == sa.bindparam("zone"), host.removed.is_(None)]
    if shape.host:
        where.append(sa.or_(host.type == ROUTING, host.id == sa.bindparam("host")))
    else:
        where.append(host.type == ROUTING)
    if shape.every_host:
        return where
    if shape.host:
        where.append(host.id == sa.bindparam("host"))
    if shape.cluster:
        where.append(host.cluster_id == sa.bindparam("cluster"))
    elif shape.pod:
        where.append(host.pod_id == sa.bindparam("pod"))
    return where


@functools.cache
def _statements(shape: _Shape) -> tuple[Any, Any]:
    """The hosts' and the tags' statements for ``shape``, built once (building a 21-column
    select costs more CPU than running it on SQLite)."""
    scoped = _in_scope(shape)
    host, cluster, pod, zone = (
        infrastructure.Host,
        infrastructure.Cluster,
        infrastructure.HostPod,
        infrastructure.DataCenter,
    )
    memory = aliased(capacity.HostCapacity)
    cpu = aliased(capacity.HostCapacity)
    hosts = (
        sa.select(
            host.id,
            host.uuid,
            host.name,
            host.type,
            host.status,
            host.resource_state,
            sa.func.coalesce(host.hypervisor_type, cluster.hypervisor_type),
            host.cpus,
            host.speed,
            host.data_center_id,
            host.pod_id,
            host.cluster_id,
            zone.allocation_state,
            pod.allocation_state,
            cluster.allocation_state,
            memory.used_capacity,
            memory.reserved_capacity,
            memory.total_capacity,
            cpu.used_capacity,
            cpu.reserved_capacity,
            cpu.total_capacity,
        )
        .join(zone, zone.id == host.data_center_id)
        .outerjoin(pod, pod.id == host.pod_id)
        .outerjoin(cluster, cluster.id == host.cluster_id)
        .outerjoin(memory, sa.and_(memory.host_id == host.id, memory.capacity_type == _MEMORY))
        .outerjoin(cpu, sa.and_(cpu.host_id == host.id, cpu.capacity_type == _CPU))
        .where(*scoped)
        .order_by(host.id)
    )
    tag = infrastructure.HostTag
    tags = sa.select(tag.host_id, tag.tag).join(host, host.id == tag.host_id).where(*scoped)
    return hosts, tags


def _hosts(
    session: Session, request: host_requests.HostRequest, every_host: bool
) -> list[HostCandidate]:
    hosts, tags = _statements(_shape(request, every_host))
    parameters = _parameters(request)
    found: dict[int, set[str]] = {}
    for host_id, text in session.execute(tags, parameters):
        found.setdefault(host_id, set()).add(str(text).strip().lower())
    return [
        _candidate(row, frozenset(found.get(row[0], ())))
        for row in session.execute(hosts, parameters)
    ]


def _candidate(row: Any, tags: frozenset[str]) -> HostCandidate:
    return HostCandidate(
        id=row[0], uuid=row[1], name=row[2], type=row[3], status=row[4], resource_state=row[5],
        hypervisor=row[6], cpus=row[7] or 0, speed=row[8] or 0, zone_id=row[9], pod_id=row[10],
        cluster_id=row[11], zone_state=row[12], pod_state=row[13], cluster_state=row[14],
        memory=Amount(row[15] or 0, row[16] or 0, row[17] or 0),
        cpu=Amount(row[18] or 0, row[19] or 0, row[20] or 0),
        tags=tags,
    )  # fmt: skip


def _clusters(session: Session, zone_id: int, cluster_ids: list[int]) -> dict[int, ClusterLoad]:
    """Each cluster's summed Enabled MEMORY and CPU rows (one GROUP BY)."""
    if not cluster_ids:
        return {}
    row = capacity.HostCapacity
    sums: dict[int, dict[int, tuple[int, int]]] = {}
    for cluster_id, kind, committed, total in session.execute(
        sa.select(
            row.cluster_id,
            row.capacity_type,
            sa.func.sum(row.used_capacity + row.reserved_capacity),
            sa.func.sum(row.total_capacity),
        )
        .where(
            row.data_center_id == zone_id,
            row.cluster_id.in_(cluster_ids),
            row.capacity_type.in_([_MEMORY, _CPU]),
            row.capacity_state == "Enabled",
        )
        .group_by(row.cluster_id, row.capacity_type)
    ):
        if cluster_id is not None:
            sums.setdefault(cluster_id, {})[kind] = (int(committed or 0), int(total or 0))
    loads: dict[int, ClusterLoad] = {}
    for cluster_id in cluster_ids:
        mine = sums.get(cluster_id, {})
        cpu, memory = mine.get(_CPU, (0, 0)), mine.get(_MEMORY, (0, 0))
        loads[cluster_id] = ClusterLoad(cpu[0], cpu[1], memory[0], memory[1])
    return loads


_GLOBAL_KEYS = (
    keys.VM_ALLOCATION_ALGORITHM,
    keys.HOST_CAPACITY_TYPE_TO_ORDER_CLUSTERS,
    keys.CLUSTER_THRESHOLD_ENABLED,
    keys.ALLOW_ADMIN_VM_ON_DISABLED_RESOURCES,
)
_CLUSTER_KEYS = (keys.CLUSTER_CPU_DISABLE_THRESHOLD, keys.CLUSTER_MEMORY_DISABLE_THRESHOLD)


def _settings(session: Session, cluster_ids: list[int]) -> PlannerSettings:
    """Read at every decision, so a new value acts without a restart. Raises BadStoredValue
    for a value that does not parse."""
    values = settings.Settings(session)
    texts = values.values_at(_GLOBAL_KEYS, None)
    algorithm = settings.parsed(keys.VM_ALLOCATION_ALGORITHM, texts[_GLOBAL_KEYS[0].name])
    order = settings.parsed(keys.HOST_CAPACITY_TYPE_TO_ORDER_CLUSTERS, texts[_GLOBAL_KEYS[1].name])
    enabled = settings.parsed(keys.CLUSTER_THRESHOLD_ENABLED, texts[_GLOBAL_KEYS[2].name])
    admin = settings.parsed(keys.ALLOW_ADMIN_VM_ON_DISABLED_RESOURCES, texts[_GLOBAL_KEYS[3].name])
    scoped = values.resolve_each(_CLUSTER_KEYS, Scope.CLUSTER, cluster_ids) if cluster_ids else {}
    cpu_key, memory_key = _CLUSTER_KEYS
    return PlannerSettings(
        algorithm=algorithm,
        order_clusters_by=order,
        threshold_enabled=enabled,
        admin_on_disabled=admin,
        cpu_threshold={
            ident: settings.parsed(cpu_key, scoped[(cpu_key.name, ident)]) for ident in cluster_ids
        },
        memory_threshold={
            ident: settings.parsed(memory_key, scoped[(memory_key.name, ident)])
            for ident in cluster_ids
        },
    )


def _vm_counts(
    session: Session, request: host_requests.HostRequest
) -> tuple[dict[int, int], dict[int, int]]:
    """The owner's Starting/Running VMs in the zone, by host and by pod (one GROUP BY)."""
    vm = compute.VmInstance
    by_host: dict[int, int] = {}
    by_pod: dict[int, int] = {}
    for host_id, pod_id, count in session.execute(
        sa.select(vm.host_id, vm.pod_id, sa.func.count())
        .where(
            vm.account_id == request.account_id,
            vm.data_center_id == request.zone_id,
            vm.state.in_(_COUNTED_STATES),
            vm.removed.is_(None),
        )
        .group_by(vm.host_id, vm.pod_id)
    ):
        if host_id is not None:
            by_host[host_id] = by_host.get(host_id, 0) + int(count)
        if pod_id is not None:
            by_pod[pod_id] = by_pod.get(pod_id, 0) + int(count)
    return by_host, by_pod
