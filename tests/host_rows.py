"""Routing hosts with their compute capacity rows, made directly (worlds too big for addHost,
and tests whose subject is the planner, not the agent). The rows are written by the real
writer (``infrastructure.capacity.write``) with the cluster's ratios, as a connect does."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import capacity as capacity_models
from cirrostack.db.models import infrastructure
from cirrostack.infrastructure import capacity, clusters

GIB = 1 << 30
MIB = 1 << 20
_counter = [0]


def host(
    session: Session,
    cluster: infrastructure.Cluster,
    *,
    name: str,
    cpus: int = 4,
    speed: int = 2000,
    ram: int = 8 * GIB,
    status: str = "Up",
    resource_state: str = "Enabled",
    hypervisor: str = "KVM",
    tags: Sequence[str] = (),
    host_type: str = "Routing",
) -> infrastructure.Host:
    """A host in ``cluster`` with its MEMORY, CPU and CPU_CORE rows; flushed, not committed."""
    _counter[0] += 1
    number = _counter[0]
    row = infrastructure.Host(
        name=name,
        data_center_id=cluster.data_center_id,
        pod_id=cluster.pod_id,
        cluster_id=cluster.id,
        type=host_type,
        status=status,
        resource_state=resource_state,
        hypervisor_type=hypervisor,
        cpus=cpus,
        speed=speed,
        ram=ram,
        private_ip_address=f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}",
        version="4.20",
    )
    session.add(row)
    session.flush()
    for tag in tags:
        session.add(infrastructure.HostTag(host_id=row.id, tag=tag))
    capacity.write(session, row, clusters.overcommit(session, cluster.id))
    return row


def amounts(session: Session, host_id: int) -> dict[int, tuple[int, int, int]]:
    """(used, reserved, total) by capacity type of the host's compute rows, read fresh."""
    table = capacity_models.HostCapacity
    found = session.execute(
        sa.select(
            table.capacity_type, table.used_capacity, table.reserved_capacity, table.total_capacity
        ).where(table.host_id == host_id, table.capacity_type.in_([0, 1, 90]))
    )
    return {kind: (used, reserved, total) for kind, used, reserved, total in found}


def set_used(session: Session, host_id: int, kind: int, used: int, reserved: int = 0) -> None:
    """Put a host's row at ``used``/``reserved`` (a world already carrying VMs)."""
    table = capacity_models.HostCapacity
    session.execute(
        sa.update(table)
        .where(table.host_id == host_id, table.capacity_type == kind)
        .values(used_capacity=used, reserved_capacity=reserved)
    )
