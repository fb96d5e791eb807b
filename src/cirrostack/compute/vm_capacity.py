"""A VM's CPU and RAM on its host, per CloudStack's capacity listener (reference §2.6):

=====================================  ==========================================
transition                             capacity
=====================================  ==========================================
Stopped → Starting (host chosen)       ``claim``: used += VM (the planner claims)
Starting → Stopped (failed attempt)    ``release_used``
Stopping → Stopped                     ``release_used(to_reserved=True)``
Stopped → Destroyed / Expunging        ``release_reservation``
=====================================  ==========================================

The host a reservation is kept on is remembered in the VM's hidden detail ``RESERVED_ON``,
so it is released exactly once (a start elsewhere, a destroy), never twice. All of these run
inside the caller's transaction, beside the state change they go with.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import access
from cirrostack.allocators import hosts
from cirrostack.compute import vms
from cirrostack.db.models import compute as models
from cirrostack.db.models import offerings

#: Hidden VM detail: the host whose reserved capacity holds this stopped VM.
RESERVED_ON = "cirrostack.reserved.host"


def request_of(
    session: Session,
    vm: models.VmInstance,
    caller: access.Caller | None,
    *,
    avoid: frozenset[int] = frozenset(),
    host_id: int | None = None,
    cluster_id: int | None = None,
) -> hosts.HostRequest:
    """What the planner is asked for the VM (its offering's size and host tag)."""
    cpus, speed, ram = vms.sizing(session, vm)
    offering = session.get_one(offerings.ServiceOffering, vm.service_offering_id)
    return hosts.HostRequest(
        zone_id=vm.data_center_id,
        cpus=cpus,
        speed=speed,
        memory=ram * 1024 * 1024,
        account_id=vm.account_id,
        domain_id=vm.domain_id,
        hypervisor=vm.hypervisor_type,
        host_tags=offering.host_tag,
        cluster_id=cluster_id,
        host_id=host_id,
        last_host_id=vm.last_host_id,
        avoid=avoid,
        vm_id=vm.id,
        root_admin=caller is not None and caller.is_root_admin,
    )


def claim(session: Session, request: hosts.HostRequest) -> hosts.Placement:
    """The planner's host with the VM's CPU and RAM claimed on it (raises
    InsufficientCapacity with the verdicts); a reservation kept elsewhere is given back."""
    placement = hosts.place(session, request)
    if request.vm_id is not None:
        kept = _reserved_on(session, request.vm_id)
        if kept is not None and not (
            placement.from_reservation and kept.value == str(placement.host.id)
        ):
            release_reservation(session, request.vm_id, request)
        _forget(session, request.vm_id)
    return placement


def release_used(
    session: Session, vm: models.VmInstance, host_id: int, *, to_reserved: bool = False
) -> None:
    """The VM no longer runs on ``host_id``: its used capacity back (kept reserved for it on
    a normal stop)."""
    cpus, speed, ram = vms.sizing(session, vm)
    hosts.release(session, host_id, cpus, speed, ram * 1024 * 1024, to_reserved=to_reserved)
    if to_reserved:
        _forget(session, vm.id)
        session.add(
            models.UserVmDetail(vm_id=vm.id, name=RESERVED_ON, value=str(host_id), display=False)
        )


def release_reservation(
    session: Session, vm_id: int, request: hosts.HostRequest | None = None
) -> None:
    """Give back the capacity reserved for the stopped VM, if any (destroy, start elsewhere)."""
    kept = _reserved_on(session, vm_id)
    if kept is None:
        return
    if request is None:
        vm = session.get_one(models.VmInstance, vm_id)
        cpus, speed, ram = vms.sizing(session, vm)
        memory = ram * 1024 * 1024
    else:
        cpus, speed, memory = request.cpus, request.speed, request.memory
    hosts.release_reserved(session, int(kept.value), cpus, speed, memory)
    _forget(session, vm_id)


def _reserved_on(session: Session, vm_id: int) -> models.UserVmDetail | None:
    detail = models.UserVmDetail
    return session.scalars(
        sa.select(detail).where(detail.vm_id == vm_id, detail.name == RESERVED_ON)
    ).first()


def _forget(session: Session, vm_id: int) -> None:
    detail = models.UserVmDetail
    session.execute(
        sa.delete(detail)
        .where(detail.vm_id == vm_id, detail.name == RESERVED_ON)
        .execution_options(synchronize_session=False)
    )
