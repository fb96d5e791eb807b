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
    scoped = _in_scope(request, every_host)
    hosts = _hosts(session, scoped, request)
    cluster_ids = sorted({host.cluster_id for host in hosts if host.cluster_id is not None})
    found = _settings(session, cluster_ids)
    if count_vms is None:
        count_vms = found.algorithm.startswith("user")
    by_host, by_pod = _vm_counts(session, request) if count_vms else ({}, {})
    return Loaded(hosts, _clusters(session, request.zone_id, cluster_ids), found, by_host, by_pod)


def _in_scope(request: host_requests.HostRequest, every_host: bool) -> list[Any]:
    host = infrastructure.Host
    where: list[Any] = [host.data_center_id == request.zone_id, host.removed.is_(None)]
    if request.host_id is not None:
        where.append(sa.or_(host.type == ROUTING, host.id == request.host_id))
    else:
        where.append(host.type == ROUTING)
    if every_host:
        return where
    if request.host_id is not None:
        where.append(host.id == request.host_id)
    if request.cluster_id is not None:
        where.append(host.cluster_id == request.cluster_id)
    elif request.pod_id is not None:
        where.append(host.pod_id == request.pod_id)
    return where


def _hosts(
    session: Session, scoped: list[Any], request: host_requests.HostRequest
) -> list[HostCandidate]:
    host, cluster, pod, zone = (
        infrastructure.Host,
        infrastructure.Cluster,
        infrastructure.HostPod,
        infrastructure.DataCenter,
    )
    memory = aliased(capacity.HostCapacity)
    cpu = aliased(capacity.HostCapacity)
    statement = (
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
    tags = _tags(session, scoped)
    return [_candidate(row, tags.get(row[0], frozenset())) for row in session.execute(statement)]


def _candidate(row: Any, tags: frozenset[str]) -> HostCandidate:
    return HostCandidate(
        id=row[0], uuid=row[1], name=row[2], type=row[3], status=row[4], resource_state=row[5],
        hypervisor=row[6], cpus=row[7] or 0, speed=row[8] or 0, zone_id=row[9], pod_id=row[10],
        cluster_id=row[11], zone_state=row[12], pod_state=row[13], cluster_state=row[14],
        memory=Amount(row[15] or 0, row[16] or 0, row[17] or 0),
        cpu=Amount(row[18] or 0, row[19] or 0, row[20] or 0),
        tags=tags,
    )  # fmt: skip


def _tags(session: Session, scoped: list[Any]) -> dict[int, frozenset[str]]:
    host, tag = infrastructure.Host, infrastructure.HostTag
    found: dict[int, set[str]] = {}
    for host_id, text in session.execute(
        sa.select(tag.host_id, tag.tag).join(host, host.id == tag.host_id).where(*scoped)
    ):
        found.setdefault(host_id, set()).add(str(text).strip().lower())
    return {host_id: frozenset(names) for host_id, names in found.items()}


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
