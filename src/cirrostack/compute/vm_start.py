"""Starting a VM: the job step of deployVirtualMachine and startVirtualMachine (reference §1.3).

Each attempt, up to ``start.retry``:

1. plan, in the job's transaction: the planner's host with the VM's CPU and RAM claimed
   (``vm_capacity.claim``), and Stopped → Starting with ``host_id`` set (the job holds the VM:
   ``states.holds``); a checkpoint commits both. A VM whose disk is already on a pool of one
   cluster is planned in that cluster (its disk cannot move);
2. with no transaction open: each Allocated disk created on a pool the host reaches
   (``storage.volume_create`` with the host's cluster; the template reaches that pool first);
3. the ``VirtualMachineTO`` read in a short transaction, then StartCommand to the host's agent;
4. success: Starting → Running with the power state, ``last_host_id``, usage VM.START.

A failed attempt (a disk that cannot be made there, an agent that refuses) sends StopCommand
when the start was sent, moves the VM back to Stopped with the capacity released, and adds the
host to the avoid set; the next attempt plans again. When no attempt succeeds the start fails
with every attempt's step and reason (and the planner's verdicts); a first deploy then goes to
Error (``vm_failure``).
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.compute import usage, vm_capacity, vm_failure, vm_nics, vm_to, vms
from cirrostack.config import keys, settings
from cirrostack.db import base
from cirrostack.db.models import compute as models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import storage as storage_models
from cirrostack.infrastructure import agents
from cirrostack.jobs import context
from cirrostack.protocol import compute as protocol
from cirrostack.states import gate
from cirrostack.storage import pool_targets, volume_create, volumes
from cirrostack.transport import errors as transport_errors

State = vms.State
Event = vms.Event


#: What the composition root wired in (``api.registry.Services``): the agents.
Wired = volume_create.Wired


@dataclass(frozen=True)
class Start:
    """What a start asks: the caller (None: the system), a host (root admins), whether this
    is the VM's first start after deployVirtualMachine (a failure then is Error)."""

    caller: access.Caller | None
    host_id: int | None = None
    first_deploy: bool = False


@dataclass(frozen=True)
class _Placed:
    host_id: int
    host_name: str
    cluster_id: int | None
    pod_id: int | None


def start(
    session: Session,
    sessions: sessionmaker[Session],
    services: Wired,
    job: context.Job,
    vm_id: int,
    ask: Start,
) -> models.VmInstance:
    """Start the VM (Running), or raise with every attempt's reason; see the module doc."""
    vm = session.get_one(models.VmInstance, vm_id)
    if State(vm.state) is State.Running:
        return vm
    if State(vm.state) is not State.Stopped:
        raise errors.ResourceUnavailable(
            f"Cannot start VM {vm.name} ({vm.uuid}) in {vm.state} state"
        )
    tries = settings.Settings(session).get(keys.START_RETRY)
    avoid: set[int] = set()
    failures: list[str] = []
    planned_only = True
    for _attempt in range(tries):
        try:
            placed = _plan(session, vm_id, ask, frozenset(avoid))
        except errors.InsufficientCapacity as exc:
            failures.append(f"planning: {exc}")
            break
        job.checkpoint()
        planned_only = False
        reason = _attempt_on(session, sessions, services, job, vm_id, placed)
        if reason is None:
            return _running(session, job, vm_id, placed)
        failures.append(f"{reason} (host {placed.host_name})")
        avoid.add(placed.host_id)
        if ask.host_id is not None:
            break
    vm = session.get_one(models.VmInstance, vm_id)
    text = f"Unable to start instance '{vm.name}' ({vm.uuid}): " + "; ".join(failures)
    if ask.first_deploy:
        vm_failure.to_error(session, services.need_agents(), job, vm_id, ask.caller, text)
    if planned_only:
        raise errors.InsufficientCapacity(text)
    raise errors.ResourceUnavailable(text)


def _plan(session: Session, vm_id: int, ask: Start, avoid: frozenset[int]) -> _Placed:
    vm = session.get_one(models.VmInstance, vm_id)
    request = vm_capacity.request_of(
        session,
        vm,
        ask.caller,
        avoid=avoid,
        host_id=ask.host_id,
        cluster_id=_pinned_cluster(session, vm_id),
    )
    placement = vm_capacity.claim(session, request)
    host = placement.host
    gate.transition(
        session,
        vm,
        Event.StartRequested,
        actor=ask.caller,
        values={"host_id": host.id, "pod_id": placement.pod_id},
    )
    return _Placed(host.id, host.name, placement.cluster_id, placement.pod_id)


def _pinned_cluster(session: Session, vm_id: int) -> int | None:
    """The cluster of a pool (not zone-wide) one of the VM's disks is already on."""
    for volume in vms.disks_of(session, vm_id):
        if volume.pool_id is None:
            continue
        pool = session.get_one(storage_models.StoragePool, volume.pool_id)
        if (pool.scope or "CLUSTER").upper() != "ZONE" and pool.cluster_id is not None:
            return pool.cluster_id
    return None


def _attempt_on(
    session: Session,
    sessions: sessionmaker[Session],
    services: Wired,
    job: context.Job,
    vm_id: int,
    placed: _Placed,
) -> str | None:
    """Steps 2 and 3 on the planned host; None when the VM runs, else the failed step."""
    fleet = services.need_agents()
    step = "creating its volumes"
    sent = False
    target: agents.Target | None = None
    try:
        _prepare_disks(session, sessions, services, job, vm_id, placed)
        step = "StartCommand"
        vm = session.get_one(models.VmInstance, vm_id)
        nics = vm_nics.transfer_objects(session, vm_id)
        command = protocol.StartCommand(vm=vm_to.build(session, vm, placed.cluster_id, nics))
        host = session.get_one(infrastructure.Host, placed.host_id)
        target = agents.target_of(session, host)
        job.checkpoint()
        sent = True
        pool_targets.exchange(fleet, target, command, protocol.StartAnswer)
    except (transport_errors.TransportError, errors.CloudError) as exc:
        if sent and target is not None:
            stop = protocol.StopCommand(vm_name=command.vm.name, forced=True)
            with contextlib.suppress(transport_errors.TransportError):
                pool_targets.exchange(fleet, target, stop, protocol.StopAnswer)
        _back_to_stopped(session, job, vm_id, placed)
        return f"{step} failed: {exc}"
    return None


def _prepare_disks(
    session: Session,
    sessions: sessionmaker[Session],
    services: Wired,
    job: context.Job,
    vm_id: int,
    placed: _Placed,
) -> None:
    near = volume_create.Near(placed.pod_id, placed.cluster_id, placed.host_id)
    for volume in vms.disks_of(session, vm_id):
        if volumes.State(volume.state) is volumes.State.Allocated:
            volume_create.create_on_pool(session, sessions, services, job, volume, near=near)
            job.checkpoint()
        elif volumes.State(volume.state) is not volumes.State.Ready:
            raise errors.ResourceUnavailable(
                f"Volume {volume.uuid} of the VM is {volume.state}: it cannot be started"
            )


def _back_to_stopped(session: Session, job: context.Job, vm_id: int, placed: _Placed) -> None:
    vm = session.get_one(models.VmInstance, vm_id)
    gate.transition(
        session,
        vm,
        Event.OperationFailed,
        fence=job.fence(),
        values={"host_id": None},
        description=f"start on host {placed.host_name} failed",
    )
    vm_capacity.release_used(session, vm, placed.host_id)
    job.checkpoint()


def _running(session: Session, job: context.Job, vm_id: int, placed: _Placed) -> models.VmInstance:
    vm = session.get_one(models.VmInstance, vm_id)
    now: datetime.datetime = base.utcnow()
    gate.transition(
        session,
        vm,
        Event.OperationSucceeded,
        fence=job.fence(),
        values={
            "last_host_id": placed.host_id,
            "power_state": protocol.PowerState.POWER_ON.value,
            "power_host": placed.host_id,
            "power_state_update_time": now,
        },
    )
    usage.of_vm(session, usage.VM_START, vm)
    return vm
