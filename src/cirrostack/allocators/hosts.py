"""PROVISIONAL stand-in for the host planner (branch i9-planner owns this module and replaces
it on merge): the announced API, first fit over the zone's Up, Enabled routing hosts, CPU and
RAM claimed by one conditional UPDATE per row checked by rowcount.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import capacity as models
from cirrostack.db.models import infrastructure

_MEMORY, _CPU = 0, 1


@dataclass(frozen=True)
class HostRequest:
    zone_id: int
    cpus: int
    speed: int
    memory: int
    account_id: int
    domain_id: int
    hypervisor: str | None = None
    host_tags: str | None = None
    pod_id: int | None = None
    cluster_id: int | None = None
    host_id: int | None = None
    last_host_id: int | None = None
    avoid: frozenset[int] = frozenset()
    vm_id: int | None = None
    root_admin: bool = False


@dataclass(frozen=True)
class HostVerdict:
    host_id: int
    host_name: str
    accepted: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class HostDecision:
    accepted: tuple[HostVerdict, ...]
    rejected: tuple[HostVerdict, ...]

    def summary(self) -> str:
        return "; ".join(f"{v.host_name}: {', '.join(v.reasons)}" for v in self.rejected)


@dataclass(frozen=True)
class Placement:
    host: infrastructure.Host
    cluster_id: int
    pod_id: int
    from_reservation: bool = False


def _hosts(session: Session, req: HostRequest) -> list[infrastructure.Host]:
    host = infrastructure.Host
    statement = sa.select(host).where(
        host.type == "Routing",
        host.removed.is_(None),
        host.data_center_id == req.zone_id,
    )
    if req.host_id is not None:
        statement = statement.where(host.id == req.host_id)
    return list(session.scalars(statement.order_by(host.id)))


def decide(session: Session, req: HostRequest) -> HostDecision:
    accepted: list[HostVerdict] = []
    rejected: list[HostVerdict] = []
    for host in _hosts(session, req):
        reasons = []
        if host.status != "Up" or host.resource_state != "Enabled":
            reasons.append(f"host is {host.status}/{host.resource_state}")
        if host.id in req.avoid:
            reasons.append("in the avoid set")
        verdict = HostVerdict(host.id, host.name, not reasons, tuple(reasons))
        (accepted if not reasons else rejected).append(verdict)
    return HostDecision(tuple(accepted), tuple(rejected))


def _claim(session: Session, host_id: int, kind: int, amount: int) -> bool:
    row = models.HostCapacity
    done = session.execute(
        sa.update(row)
        .where(
            row.host_id == host_id,
            row.capacity_type == kind,
            row.used_capacity + row.reserved_capacity + amount <= row.total_capacity,
        )
        .values(used_capacity=row.used_capacity + amount)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def place(session: Session, req: HostRequest) -> Placement:
    decision = decide(session, req)
    rejected = list(decision.rejected)
    for verdict in decision.accepted:
        host = session.get_one(infrastructure.Host, verdict.host_id)
        with session.begin_nested() as nested:
            if _claim(session, host.id, _CPU, req.cpus * req.speed) and _claim(
                session, host.id, _MEMORY, req.memory
            ):
                return Placement(host, host.cluster_id or 0, host.pod_id or 0)
            nested.rollback()
        rejected.append(HostVerdict(host.id, host.name, False, ("not enough capacity",)))
    text = "; ".join(f"{v.host_name}: {', '.join(v.reasons)}" for v in rejected)
    raise errors.InsufficientCapacity(
        f"Unable to create a deployment for the VM: {text or 'no host in the zone'}"
    )


def _move(session: Session, host_id: int, kind: int, used: int, reserved: int) -> None:
    row = models.HostCapacity
    session.execute(
        sa.update(row)
        .where(row.host_id == host_id, row.capacity_type == kind)
        .values(
            used_capacity=sa.func.greatest(row.used_capacity + used, 0)
            if session.get_bind().dialect.name != "sqlite"
            else sa.func.max(row.used_capacity + used, 0),
            reserved_capacity=sa.func.greatest(row.reserved_capacity + reserved, 0)
            if session.get_bind().dialect.name != "sqlite"
            else sa.func.max(row.reserved_capacity + reserved, 0),
        )
        .execution_options(synchronize_session=False)
    )


def release(
    session: Session,
    host_id: int,
    cpus: int,
    speed: int,
    memory: int,
    *,
    to_reserved: bool = False,
) -> None:
    back = 1 if to_reserved else 0
    _move(session, host_id, _CPU, -cpus * speed, back * cpus * speed)
    _move(session, host_id, _MEMORY, -memory, back * memory)


def release_reserved(session: Session, host_id: int, cpus: int, speed: int, memory: int) -> None:
    _move(session, host_id, _CPU, 0, -cpus * speed)
    _move(session, host_id, _MEMORY, 0, -memory)
