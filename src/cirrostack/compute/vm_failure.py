"""A first deploy that cannot start: CloudStack's ``updateVmStateForFailedVmCreation``.

The VM (back in Stopped after its last attempt) goes to Error; its disks are deleted from
their pools and their records expunged (capacity and counts given back, VOLUME.DELETE); the
VM's own counts (user_vm, cpu, memory) are given back. The Error VM stays listed with the
reason in its events until it is expunged (destroyVirtualMachine, or expunge=true).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cirrostack.accounts import access
from cirrostack.compute import vm_disks, vm_nics, vms
from cirrostack.db import base
from cirrostack.db.models import compute as models
from cirrostack.jobs import context
from cirrostack.states import gate


def to_error(
    session: Session,
    fleet: Any,
    job: context.Job,
    vm_id: int,
    caller: access.Caller | None,
    reason: str,
) -> None:
    """Error, disks removed, counts released, committed (the job then fails with ``reason``)."""
    vm = session.get_one(models.VmInstance, vm_id)
    actor = caller if caller is not None else gate.SYSTEM
    gate.transition(
        session,
        vm,
        vms.Event.OperationFailedToError,
        actor=actor,
        fence=job.fence(),
        description=reason,
    )
    vms.release_counts(session, vm)
    vm_nics.release_all(session, vm_id)
    disks = [volume.id for volume in vms.disks_of(session, vm_id)]
    job.checkpoint()
    vm_disks.remove(session, fleet, job, disks, actor, base.utcnow())
    job.checkpoint()
