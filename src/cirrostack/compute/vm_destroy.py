"""Destroy, recover and expunge a VM (reference §4), as job steps.

Destroy: a Running VM is stopped first (``vm_stop``); every data disk is detached, except
those ``volumeids`` names, which are deleted with their files; Stopped → Destroyed, the
capacity reserved for it released, its counts (user_vm, cpu, memory) given back, usage
VM.DESTROY. With ``expunge`` it is expunged at once. An Error VM (a failed deploy) goes
straight to expunging (its machine's rule).

Recover: Destroyed → Stopped, its counts charged again, usage VM.CREATE (as CloudStack).

Expunge: Destroyed or Error → Expunging; the remaining disks (the ROOT) deleted with their
files; the row marked removed, freeing its host name.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.compute import instance_groups, usage, vm_capacity, vm_disks, vm_nics, vm_stop, vms
from cirrostack.db import base
from cirrostack.db.models import compute as models
from cirrostack.jobs import context
from cirrostack.states import gate
from cirrostack.storage import volumes

State = vms.State
Event = vms.Event


def check_volumes(session: Session, vm: models.VmInstance, volume_ids: Sequence[int]) -> None:
    """``volumeids`` must be data disks attached to this VM."""
    attached = {
        volume.id
        for volume in vms.disks_of(session, vm.id)
        if volume.volume_type == volumes.DATADISK
    }
    stray = [volume_id for volume_id in volume_ids if volume_id not in attached]
    if stray:
        raise errors.InvalidParameterValue(
            f"Please specify volumes that are attached to VM {vm.uuid} as data disks"
        )


def destroy(
    session: Session,
    fleet: Any,
    job: context.Job,
    vm_id: int,
    caller: access.Caller,
    *,
    expunge: bool = False,
    volume_ids: Sequence[int] = (),
) -> models.VmInstance:
    vm = session.get_one(models.VmInstance, vm_id)
    check_volumes(session, vm, volume_ids)
    if State(vm.state) is State.Error:
        return _expunge(session, fleet, job, vm_id, caller)
    if State(vm.state) is State.Destroyed:
        return _expunge(session, fleet, job, vm_id, caller) if expunge else vm
    vm_stop.stop(session, fleet, job, vm_id, caller)
    vm = session.get_one(models.VmInstance, vm_id)
    if State(vm.state) is not State.Stopped:
        raise errors.ResourceUnavailable(f"VM {vm.uuid} is {vm.state}: it cannot be destroyed")
    for volume in vms.disks_of(session, vm_id):
        if volume.volume_type == volumes.DATADISK and volume.id not in volume_ids:
            vm_disks.detach(session, volume)
    gate.transition(session, vm, Event.DestroyRequested, actor=caller, fence=job.fence())
    vm_capacity.release_reservation(session, vm_id)
    vms.release_counts(session, vm)
    usage.of_vm(session, usage.VM_DESTROY, vm)
    job.checkpoint()
    vm_disks.remove(session, fleet, job, volume_ids, caller, base.utcnow())
    if expunge:
        return _expunge(session, fleet, job, vm_id, caller)
    return session.get_one(models.VmInstance, vm_id)


def recover(session: Session, caller: access.Caller, vm: models.VmInstance) -> None:
    """Destroyed → Stopped in the caller's transaction; raises InvalidParameterValue."""
    if State(vm.state) is not State.Destroyed:
        raise errors.InvalidParameterValue(
            f"VM {vm.uuid} is {vm.state}: only a Destroyed VM can be recovered"
        )
    vms.reserve_counts(session, vm)
    gate.transition(session, vm, Event.RecoveryRequested, actor=caller)
    usage.of_vm(session, usage.VM_CREATE, vm)


def expunge(
    session: Session, fleet: Any, job: context.Job, vm_id: int, caller: access.Caller
) -> models.VmInstance:
    """expungeVirtualMachine: the VM must be Destroyed (or Error)."""
    vm = session.get_one(models.VmInstance, vm_id)
    if State(vm.state) not in (State.Destroyed, State.Error, State.Expunging):
        raise errors.InvalidParameterValue(
            f"VM {vm.uuid} is {vm.state}: destroy it before expunging it"
        )
    return _expunge(session, fleet, job, vm_id, caller)


def _expunge(
    session: Session, fleet: Any, job: context.Job, vm_id: int, caller: access.Caller
) -> models.VmInstance:
    vm = session.get_one(models.VmInstance, vm_id)
    if State(vm.state) is State.Error:
        gate.transition(session, vm, Event.DestroyRequested, actor=caller, fence=job.fence())
    elif State(vm.state) is not State.Expunging:
        gate.transition(session, vm, Event.ExpungeOperation, actor=caller, fence=job.fence())
    disks = [volume.id for volume in vms.disks_of(session, vm_id)]
    job.checkpoint()
    vm_disks.remove(session, fleet, job, disks, caller, base.utcnow())
    vm_nics.release_all(session, vm_id)
    instance_groups.leave(session, vm_id)
    vm = session.get_one(models.VmInstance, vm_id)
    now: datetime.datetime = base.utcnow()
    vm.removed = now
    session.flush()
    return vm
