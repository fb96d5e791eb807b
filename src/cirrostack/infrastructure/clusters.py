"""Clusters: create, update, delete, find and list; their over-commit ratios.

Called by the cluster API commands (and addHost with a ``clustername``) inside their
transaction. Rules (CloudStack's): a cluster name is unique within its pod; a new cluster gets
``cpuOvercommitRatio`` and ``memoryOvercommitRatio`` in ``cluster_details``, copied from the global
``cpu.overprovisioning.factor`` and ``mem.overprovisioning.factor`` (default "1.0"); a cluster with
hosts or primary storage cannot be deleted; its hypervisor cannot change while it has hosts.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.config import keys, settings
from cirrostack.db import base, query, unique
from cirrostack.db.models import infrastructure as models
from cirrostack.db.models import storage
from cirrostack.infrastructure import hypervisors, rows

CPU_OVERCOMMIT = "cpuOvercommitRatio"
MEMORY_OVERCOMMIT = "memoryOvercommitRatio"
#: What a cluster shows when a ratio row is missing (cpu/mem.overprovisioning.factor default).
DEFAULT_RATIO = "1.0"

T = TypeVar("T", bound=enum.StrEnum)


class ClusterType(enum.StrEnum):
    CloudManaged = "CloudManaged"
    ExternalManaged = "ExternalManaged"


class ManagedState(enum.StrEnum):
    Managed = "Managed"
    Unmanaged = "Unmanaged"


@dataclass(frozen=True)
class Overcommit:
    """How far a cluster's CPU and memory may be over-committed (1.0: not at all)."""

    cpu: float = 1.0
    memory: float = 1.0


@dataclass(frozen=True)
class NewCluster:
    """addCluster's values, as given (validated by ``create``)."""

    name: str
    hypervisor: str
    cluster_type: str
    allocation_state: str | None = None


@dataclass(frozen=True)
class ClusterChanges:
    """updateCluster's values; None leaves a field alone."""

    name: str | None = None
    hypervisor: str | None = None
    cluster_type: str | None = None
    allocation_state: str | None = None
    managed_state: str | None = None


def create(session: Session, pod: models.HostPod, new: NewCluster) -> models.Cluster:
    """Insert a cluster into ``pod`` with its default ratios; InvalidParameterValue if wrong."""
    name = rows.require_name(new.name, "cluster")
    cluster = models.Cluster(
        name=name,
        pod_id=pod.id,
        data_center_id=pod.data_center_id,
        hypervisor_type=hypervisors.parse(new.hypervisor).value,
        cluster_type=_enum(ClusterType, new.cluster_type, "clustertype").value,
        allocation_state=rows.AllocationState.Enabled.value,
        managed_state=ManagedState.Managed.value,
    )
    if new.allocation_state is not None:
        cluster.allocation_state = rows.allocation_state(new.allocation_state).value
    with unique.refusing(session, NAME_KEY, _name_taken(name, pod)):
        session.add(cluster)
    # Seeded from the global factors, as CloudStack does; the cluster keeps its own from now on.
    ratios = overcommit(session, None)
    for name, ratio in ((CPU_OVERCOMMIT, ratios.cpu), (MEMORY_OVERCOMMIT, ratios.memory)):
        session.add(models.ClusterDetail(cluster_id=cluster.id, name=name, value=str(ratio)))
    session.flush()
    return cluster


def update(session: Session, cluster: models.Cluster, changes: ClusterChanges) -> models.Cluster:
    """Apply ``changes``; InvalidParameterValue for a bad value, ResourceInUse for a hypervisor
    change of a cluster with hosts."""
    if changes.name is not None and changes.name.strip() != cluster.name:
        pod = session.get_one(models.HostPod, cluster.pod_id)
        name = rows.require_name(changes.name, "cluster")
        with unique.refusing(session, NAME_KEY, _name_taken(name, pod)):
            cluster.name = name
    if changes.hypervisor is not None:
        _change_hypervisor(session, cluster, hypervisors.parse(changes.hypervisor))
    if changes.cluster_type is not None:
        cluster.cluster_type = _enum(ClusterType, changes.cluster_type, "clustertype").value
    if changes.allocation_state is not None:
        cluster.allocation_state = rows.allocation_state(changes.allocation_state).value
    if changes.managed_state is not None:
        cluster.managed_state = _enum(ManagedState, changes.managed_state, "managedstate").value
    session.flush()
    return cluster


def delete(session: Session, cluster: models.Cluster) -> None:
    """Soft-delete an empty cluster; raises ResourceInUse naming its hosts or storage."""
    for model, what in ((models.Host, "hosts"), (storage.StoragePool, "primary storage")):
        names = rows.names_of_live(session, model, model.cluster_id == cluster.id)
        if names:
            raise errors.ResourceInUse(
                f"The cluster {cluster.name} is not deletable because it has {what}: "
                + ", ".join(names)
            )
    rows.retire(cluster, base.utcnow())
    session.flush()


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.Cluster:
    """The live cluster with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    return rows.live_by_uuid(session, models.Cluster, uuid, "cluster", parameter)


def by_name(session: Session, pod: models.HostPod, name: str) -> models.Cluster | None:
    """The live cluster called ``name`` (in any case) in ``pod``."""
    return session.scalars(
        sa.select(models.Cluster).where(
            models.Cluster.pod_id == pod.id,
            query.same_name(models.Cluster.name, name.strip()),
            models.Cluster.removed.is_(None),
        )
    ).first()


def detail_values(session: Session, cluster: models.Cluster) -> dict[str, str]:
    """The cluster's details by name."""
    return details_of(session, [cluster.id]).get(cluster.id, {})


_DETAILS = query.NameValues(
    models.ClusterDetail.cluster_id, models.ClusterDetail.name, models.ClusterDetail.value
)


def details_of(session: Session, cluster_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The details of each cluster by name, in one query (a page of listClusters)."""
    return _DETAILS.of(session, cluster_ids)


def overcommit(session: Session, cluster_id: int | None) -> Overcommit:
    """The ratios in force for the cluster: its details, else the global factors.

    Raises config BadStoredValue when a stored ratio does not parse.
    """
    values = settings.Settings(session)
    return Overcommit(
        cpu=values.get(keys.CPU_OVERPROVISIONING_FACTOR, cluster_id=cluster_id),
        memory=values.get(keys.MEM_OVERPROVISIONING_FACTOR, cluster_id=cluster_id),
    )


def overcommit_of(
    session: Session, cluster_ids: Sequence[int | None]
) -> dict[int | None, Overcommit]:
    """``overcommit`` for each of ``cluster_ids`` (None: a host outside any cluster), in a
    fixed number of queries (a page of listHosts)."""
    cpu_key, memory_key = keys.CPU_OVERPROVISIONING_FACTOR, keys.MEM_OVERPROVISIONING_FACTOR
    named = [ident for ident in cluster_ids if ident is not None]
    texts = settings.Settings(session).resolve_each(
        [cpu_key, memory_key], settings.Scope.CLUSTER, named
    )
    found: dict[int | None, Overcommit] = {
        ident: Overcommit(
            cpu=settings.parsed(cpu_key, texts[(cpu_key.name, ident)]),
            memory=settings.parsed(memory_key, texts[(memory_key.name, ident)]),
        )
        for ident in named
    }
    if None in cluster_ids:
        found[None] = overcommit(session, None)
    return found


@dataclass(frozen=True)
class ClusterFilter:
    id: int | None = None
    name: str | None = None
    zone_id: int | None = None
    pod_id: int | None = None
    hypervisor: str | None = None
    cluster_type: str | None = None
    allocation_state: str | None = None
    managed_state: str | None = None
    keyword: str | None = None


def search(
    session: Session, wanted: ClusterFilter, page: query.Page
) -> tuple[Sequence[models.Cluster], int]:
    """Live clusters matching ``wanted``: one page and the total."""
    cluster = models.Cluster
    statement = sa.select(cluster).where(cluster.removed.is_(None))
    statement = statement.where(
        *query.equal_to_given(
            (cluster.id, wanted.id),
            (cluster.data_center_id, wanted.zone_id),
            (cluster.pod_id, wanted.pod_id),
            (cluster.hypervisor_type, wanted.hypervisor),
            (cluster.cluster_type, wanted.cluster_type),
            (cluster.allocation_state, wanted.allocation_state),
            (cluster.managed_state, wanted.managed_state),
        ),
        *query.named_as_given((cluster.name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(cluster.name, wanted.keyword))
    found, total = query.paged(session, statement.order_by(cluster.id), page)
    return list(found), total


def _change_hypervisor(
    session: Session, cluster: models.Cluster, wanted: hypervisors.HypervisorType
) -> None:
    if wanted.value == cluster.hypervisor_type:
        return
    hosts = rows.count_live(session, models.Host, models.Host.cluster_id == cluster.id)
    if hosts:
        raise errors.ResourceInUse(
            f"The hypervisor of cluster {cluster.name} cannot change: it has {hosts} host(s)"
        )
    cluster.hypervisor_type = wanted.value


def _enum(kind: type[T], text: str, parameter: str) -> T:
    for member in kind:
        if member.value.lower() == text.strip().lower():
            return member
    raise errors.InvalidParameterValue(
        f"Invalid {parameter} {text}: it must be one of " + ", ".join(m.value for m in kind)
    )


#: The unique keys over cluster names of a pod: the live, case-insensitive one (migration 0004),
#: and CloudStack's (pod_id, name), which MariaDB's collation makes case-insensitive.
NAME_KEY = ("uq_cluster_pod_id_live_name", "uq_cluster_pod_id_name")


def _name_taken(name: str, pod: models.HostPod) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"A cluster with name {name} already exists in pod {pod.name}"
    )
