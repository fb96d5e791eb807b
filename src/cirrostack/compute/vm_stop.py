"""Stopping and rebooting a VM (reference §4), as job steps.

Stop: a VM already Stopped (or Destroyed, Error, Expunging) is left as it is. A Running VM
goes Stopping in the job's transaction, a checkpoint commits it, StopCommand goes to its host
with no transaction open, then Stopping → Stopped with the host cleared, its used capacity
moved to reserved on that host (``vm_capacity``), usage VM.STOP. If the agent fails, a normal
stop puts the VM back to Running and fails; a forced stop (``forced=true``) stops it anyway,
as CloudStack's does when the host cannot be reached.

Reboot: RebootCommand to the running VM's host; no state changes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.compute import usage, vm_capacity, vms
from cirrostack.db.models import compute as models
from cirrostack.db.models import infrastructure
from cirrostack.infrastructure import agents
from cirrostack.jobs import context
from cirrostack.protocol import compute as protocol
from cirrostack.states import gate
from cirrostack.storage import pool_targets
from cirrostack.transport import errors as transport_errors

State = vms.State
Event = vms.Event
#: States a stop leaves alone (nothing runs).
_ALREADY_OFF = (State.Stopped, State.Destroyed, State.Error, State.Expunging)


def stop(
    session: Session,
    fleet: Any,
    job: context.Job,
    vm_id: int,
    caller: access.Caller | None,
    *,
    forced: bool = False,
) -> models.VmInstance:
    """Stop the VM (see the module doc); raises ResourceUnavailable when it is in the middle
    of another operation or its agent refuses a normal stop."""
    vm = session.get_one(models.VmInstance, vm_id)
    state = State(vm.state)
    if state in _ALREADY_OFF:
        return vm
    if state is not State.Running:
        raise errors.ResourceUnavailable(
            f"VM {vm.name} ({vm.uuid}) is {vm.state}: wait for that operation to finish"
        )
    host_id = vm.host_id
    assert host_id is not None
    gate.transition(session, vm, Event.StopRequested, actor=caller)
    target = agents.target_of(session, session.get_one(infrastructure.Host, host_id))
    command = protocol.StopCommand(vm_name=vm.instance_name, forced=forced)
    job.checkpoint()
    try:
        pool_targets.exchange(fleet, target, command, protocol.StopAnswer)
    except transport_errors.TransportError as exc:
        if not forced:
            vm = session.get_one(models.VmInstance, vm_id)
            gate.transition(session, vm, Event.OperationFailed, actor=caller, fence=job.fence())
            job.checkpoint()
            raise errors.ResourceUnavailable(
                f"Unable to stop VM {vm.name} ({vm.uuid}): {exc}; stop it with forced=true"
            ) from exc
    vm = session.get_one(models.VmInstance, vm_id)
    gate.transition(
        session,
        vm,
        Event.OperationSucceeded,
        actor=caller,
        fence=job.fence(),
        values={
            "host_id": None,
            "power_state": protocol.PowerState.POWER_OFF.value,
            "power_host": None,
        },
    )
    vm_capacity.release_used(session, vm, host_id, to_reserved=True)
    usage.of_vm(session, usage.VM_STOP, vm)
    return vm


def reboot(session: Session, fleet: Any, job: context.Job, vm_id: int) -> models.VmInstance:
    """RebootCommand to the running VM's host; raises ResourceUnavailable."""
    vm = session.get_one(models.VmInstance, vm_id)
    if State(vm.state) is not State.Running or vm.host_id is None:
        raise errors.ResourceUnavailable(
            f"VM {vm.name} ({vm.uuid}) is {vm.state}: only a Running VM can be rebooted"
        )
    target = agents.target_of(session, session.get_one(infrastructure.Host, vm.host_id))
    command = protocol.RebootCommand(vm_name=vm.instance_name)
    job.checkpoint()
    try:
        pool_targets.exchange(fleet, target, command, protocol.RebootAnswer)
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(f"Unable to reboot VM {vm.name}: {exc}") from exc
    return session.get_one(models.VmInstance, vm_id)
