"""The only SQL that moves a host's used and reserved compute (capacity contract).

A routing host has three ``op_host_capacity`` rows (``infrastructure.capacity``): MEMORY
(type 0, bytes), CPU (type 1, MHz = cores x speed) and CPU_CORE (type 90, cores), one per
(host, type) (migration 0009). Their totals already carry the cluster's over-commit ratios
(written at connect, rewritten by ``infrastructure.capacity.refresh_totals`` when a ratio
changes), so a claim compares ``used + reserved + ask`` with ``total`` and nothing else.

A claim is ONE conditional UPDATE per row, checked by its row count, in the caller's
transaction, memory first, then CPU, then cores (every function here touches the rows in that
order, so two transactions never wait on each other's rows of one host in opposite orders;
across hosts a MariaDB deadlock is possible and is run again by the transaction owner, see
docs/allocators.md)::

    UPDATE op_host_capacity SET used_capacity = used_capacity + :ask
     WHERE host_id = :host AND capacity_type = 0
       AND used_capacity + reserved_capacity + :ask <= total_capacity

When a later row refuses (CPU full while memory fitted), the rows already raised are lowered
again by the same amount before ``claim`` answers False. That is exact: our UPDATE holds those
rows' locks until the caller's transaction ends, so nobody moved them in between. A failed
claim therefore leaves the rows as they were and the caller need not roll back (it may).
The cores row is counted, never limited (nor required): CloudStack checks cores per VM against
the host's cores (the CPU capability filter), not their sum.

From a reservation (the VM's last host kept its capacity while it was stopped): used += ask,
reserved -= ask in the same UPDATE, only when reserved covers the ask. The release rules
(reference 2.6): ``release`` (used -= ask), ``release_to_reserved`` (used -= ask, reserved +=
what was released: a normal stop), ``release_reserved`` (reserved -= ask: the stopped VM is
destroyed or started elsewhere). Releases never go below 0. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import capacity as models
from cirrostack.infrastructure import capacity

_ROW = models.HostCapacity
MEMORY, CPU, CPU_CORE = (
    int(capacity.CapacityType.MEMORY),
    int(capacity.CapacityType.CPU),
    int(capacity.CapacityType.CPU_CORE),
)
#: The order every statement here touches a host's rows in (no lock-order cycles).
_ORDER = (MEMORY, CPU, CPU_CORE)


@dataclass(frozen=True)
class Compute:
    """What one VM counts on a host: bytes of memory, MHz of CPU, cores."""

    memory: int
    cpu_mhz: int
    cores: int

    @classmethod
    def of(cls, cpus: int, speed: int, memory: int) -> Compute:
        return cls(memory=memory, cpu_mhz=cpus * speed, cores=cpus)

    def by_type(self) -> dict[int, int]:
        return {MEMORY: self.memory, CPU: self.cpu_mhz, CPU_CORE: self.cores}


def claim(session: Session, host_id: int, ask: Compute) -> bool:
    """Add ``ask`` to the host's used capacity if memory and CPU both fit beside what is used
    and reserved; True when claimed, False (rows unchanged) when not."""
    return _all_or_nothing(session, host_id, ask, from_reserved=False)


def claim_reserved(session: Session, host_id: int, ask: Compute) -> bool:
    """Move ``ask`` from the host's reserved to its used capacity (start on the last host);
    True when the reservation covered memory and CPU, False (rows unchanged) when not."""
    return _all_or_nothing(session, host_id, ask, from_reserved=True)


def _all_or_nothing(session: Session, host_id: int, ask: Compute, *, from_reserved: bool) -> bool:
    amounts = ask.by_type()
    raised: list[int] = []
    for kind in _ORDER:
        if _raise(session, host_id, kind, amounts[kind], from_reserved) or kind == CPU_CORE:
            raised.append(kind)  # a host without a cores row is still claimable
            continue
        for done in raised:
            _lower(session, host_id, done, amounts[done], to_reserved=from_reserved)
        return False
    return True


def _raise(session: Session, host_id: int, kind: int, amount: int, from_reserved: bool) -> bool:
    used, reserved, total = _ROW.used_capacity, _ROW.reserved_capacity, _ROW.total_capacity
    where = _of(host_id, kind)
    values: dict[Any, Any] = {used: used + amount}
    if kind == CPU_CORE:  # counted, never limited
        if from_reserved:
            values[reserved] = _less(reserved, amount)
    elif from_reserved:
        values[reserved] = reserved - amount
        where.append(reserved >= amount)
    else:
        where.append(used + reserved + amount <= total)
    return _update(session, where, values) == 1


def _lower(session: Session, host_id: int, kind: int, amount: int, *, to_reserved: bool) -> None:
    """Undo ``_raise`` exactly (our transaction holds the row since raising it)."""
    values: dict[Any, Any] = {_ROW.used_capacity: _ROW.used_capacity - amount}
    if to_reserved:
        values[_ROW.reserved_capacity] = _ROW.reserved_capacity + amount
    _update(session, [_ROW.host_id == host_id, _ROW.capacity_type == kind], values)


def release(session: Session, host_id: int, ask: Compute) -> None:
    """used -= ask (never below 0): a VM that stops for good, fails to start, or leaves."""
    for kind, amount in _ordered(ask):
        _update(
            session, _of(host_id, kind), {_ROW.used_capacity: _less(_ROW.used_capacity, amount)}
        )


def release_to_reserved(session: Session, host_id: int, ask: Compute) -> None:
    """used -= ask and reserved += what was released: a stopped VM keeps its place on its
    last host (``capacity.skipcounting.hours``)."""
    used, reserved = _ROW.used_capacity, _ROW.reserved_capacity
    for kind, amount in _ordered(ask):
        moved = sa.case((used > amount, sa.literal(amount)), else_=used)
        # reserved first: MariaDB evaluates SET left to right with the new values.
        statement = (
            sa.update(_ROW)
            .where(*_of(host_id, kind))
            .ordered_values((reserved, reserved + moved), (used, _less(used, amount)))
            .execution_options(synchronize_session=False)
        )
        session.execute(statement)


def release_reserved(session: Session, host_id: int, ask: Compute) -> None:
    """reserved -= ask (never below 0): the stopped VM is destroyed or started elsewhere."""
    for kind, amount in _ordered(ask):
        reserved = _ROW.reserved_capacity
        _update(session, _of(host_id, kind), {reserved: _less(reserved, amount)})


def _ordered(ask: Compute) -> list[tuple[int, int]]:
    amounts = ask.by_type()
    return [(kind, amounts[kind]) for kind in _ORDER if amounts[kind] > 0]


def _of(host_id: int, kind: int) -> list[sa.ColumnElement[bool]]:
    return [_ROW.host_id == host_id, _ROW.capacity_type == kind]


def _less(column: Any, amount: int) -> Any:
    return sa.case((column > amount, column - amount), else_=0)


def _update(session: Session, where: list[sa.ColumnElement[bool]], values: dict[Any, Any]) -> int:
    done: Any = session.execute(
        sa.update(_ROW).where(*where).values(values).execution_options(synchronize_session=False)
    )
    return int(done.rowcount)
