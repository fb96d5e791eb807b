"""A routing host's rows in ``op_host_capacity``: memory, CPU MHz and CPU cores.

Written when the host connects (from its startup report), removed when it is deleted; their
``capacity_state`` follows the host's resource state (Enabled only while the host is Enabled).
Totals already include the cluster's over-commit ratios, so whoever claims capacity compares
``used + reserved + asked`` with ``total`` and nothing else. ``used`` and ``reserved`` belong to
whoever claims capacity and are never touched here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db import base
from cirrostack.db.models import capacity as models
from cirrostack.db.models import infrastructure
from cirrostack.infrastructure import clusters


class CapacityType(enum.IntEnum):
    """CloudStack's ``capacity_type`` numbers for the kinds a host has."""

    MEMORY = 0
    CPU = 1
    CPU_CORE = 90


@dataclass(frozen=True)
class Amounts:
    """One capacity row's figures."""

    used: int = 0
    reserved: int = 0
    total: int = 0


#: The largest amount a BIGINT column holds; absurd ratios are capped there.
_MOST = 2**63 - 1


def totals(host: infrastructure.Host, ratios: clusters.Overcommit) -> dict[CapacityType, int]:
    """What the host offers: bytes of memory and MHz of CPU with the ratios applied, cores."""
    cpus, speed, ram = host.cpus or 0, host.speed or 0, host.ram or 0
    return {
        CapacityType.MEMORY: min(int(ram * ratios.memory), _MOST),
        CapacityType.CPU: min(int(cpus * speed * ratios.cpu), _MOST),
        CapacityType.CPU_CORE: cpus,
    }


def write(session: Session, host: infrastructure.Host, ratios: clusters.Overcommit) -> None:
    """Create the host's rows, or refresh their totals (used and reserved are kept)."""
    existing = _rows(session, host.id)
    state = _state(host.resource_state)
    now = base.utcnow()
    for kind, total in totals(host, ratios).items():
        row = existing.get(kind)
        if row is None:
            row = models.HostCapacity(
                host_id=host.id, capacity_type=int(kind), used_capacity=0, reserved_capacity=0
            )
            session.add(row)
        row.data_center_id = host.data_center_id
        row.pod_id = host.pod_id
        row.cluster_id = host.cluster_id
        row.total_capacity = total
        row.capacity_state = state
        row.update_time = now
    session.flush()


def refresh_totals(session: Session, cluster_id: int | None = None) -> int:
    """Rewrite the totals of the connected routing hosts of ``cluster_id`` (None: of every
    cluster) with the over-commit ratios in force now; used and reserved are kept.

    Called when ``cpu.overprovisioning.factor`` or ``mem.overprovisioning.factor`` changes
    (updateConfiguration, resetConfiguration), so the claims compare with the ratios the
    operator set, not those of the host's last connect. Returns the number of hosts.
    """
    host = infrastructure.Host
    found = session.scalars(
        sa.select(host).where(
            host.removed.is_(None),
            host.type == "Routing",
            host.cpus.is_not(None),
            host.cluster_id.is_not(None) if cluster_id is None else host.cluster_id == cluster_id,
        )
    ).all()
    ratios = clusters.overcommit_of(session, list({row.cluster_id for row in found}))
    now = base.utcnow()
    for row in found:
        for kind, total in totals(row, ratios[row.cluster_id]).items():
            session.execute(
                sa.update(models.HostCapacity)
                .where(
                    models.HostCapacity.host_id == row.id,
                    models.HostCapacity.capacity_type == int(kind),
                )
                .values(total_capacity=total, update_time=now)
                .execution_options(synchronize_session=False)
            )
    return len(found)


def set_state(session: Session, host: infrastructure.Host) -> None:
    """Make the rows' capacity_state follow the host's resource state."""
    session.execute(
        sa.update(models.HostCapacity)
        .where(models.HostCapacity.host_id == host.id, _host_kinds())
        .values(capacity_state=_state(host.resource_state), update_time=base.utcnow())
    )


def remove(session: Session, host: infrastructure.Host) -> None:
    """Delete the host's rows (the host is being deleted)."""
    session.execute(
        sa.delete(models.HostCapacity).where(models.HostCapacity.host_id == host.id, _host_kinds())
    )


def of_host(session: Session, host_id: int) -> dict[CapacityType, Amounts]:
    """The host's figures by kind (kinds without a row are missing)."""
    return of_hosts(session, [host_id]).get(host_id, {})


def of_hosts(session: Session, host_ids: Sequence[int]) -> dict[int, dict[CapacityType, Amounts]]:
    """``of_host`` for each of ``host_ids``, in one query (a page of listHosts)."""
    if not host_ids:
        return {}
    table = models.HostCapacity
    found: dict[int, dict[CapacityType, Amounts]] = {}
    # Plain columns, not ORM rows: a page of 500 hosts has 1,500 of them.
    for host_id, kind, used, reserved, total in session.execute(
        sa.select(
            table.host_id,
            table.capacity_type,
            table.used_capacity,
            table.reserved_capacity,
            table.total_capacity,
        ).where(table.host_id.in_(sorted(set(host_ids))), _host_kinds())
    ):
        if host_id is not None:
            found.setdefault(host_id, {})[CapacityType(kind)] = Amounts(used, reserved, total)
    return found


def _rows(session: Session, host_id: int) -> dict[CapacityType, models.HostCapacity]:
    found = session.scalars(
        sa.select(models.HostCapacity).where(models.HostCapacity.host_id == host_id, _host_kinds())
    )
    return {CapacityType(row.capacity_type): row for row in found}


def _host_kinds() -> sa.ColumnElement[bool]:
    # host_id holds a pool id for storage kinds, so every query names the host kinds.
    return models.HostCapacity.capacity_type.in_([int(kind) for kind in CapacityType])


def _state(resource_state: str) -> str:
    return "Enabled" if resource_state == "Enabled" else "Disabled"
