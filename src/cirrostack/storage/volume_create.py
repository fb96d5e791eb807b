"""Creating an Allocated volume on a pool: the job step VM deployment (next issue) and tests
call.

``create_on_pool`` runs inside a job (``jobs.context.Job``) in three parts, so no transaction
is open while an agent works:

1. in the job's transaction: the volume must be Allocated; the pool is the one given (its
   allocated capacity claimed by one conditional UPDATE) or the allocator's choice
   (``allocators.pools.place``, which claims); the volume moves Allocated → Creating with its
   ``pool_id`` (the gate records the job's hold); the checkpoint commits;
2. no transaction: for a volume from a template, the template's copy on the pool is made once
   (``template_pool.ensure``); then CreateObjectCommand on the pool's host: an empty qcow2 of
   the volume's size with preallocation from its provisioning type, or from the template copy
   (THIN: a linked clone, a qcow2 overlay; SPARSE/FAT: a full convert with preallocation);
3. a short write under the job's fence: Ready with what the answer says (path, size, format).

Any failure in 2: DeleteCommand of what may have been made (the agent names a new volume by
its uuid), the volume back to Allocated with ``pool_id`` NULL, the capacity released, committed
at once; then the agent's error is the job's (ResourceUnavailable, or InsufficientCapacity for
a full pool).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.allocators import claims, pools
from cirrostack.db.models import offerings, templates
from cirrostack.db.models import storage as models
from cirrostack.jobs import context
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate
from cirrostack.storage import pool_targets, template_pool, volume_delete, volumes
from cirrostack.storage import pools as pool_rows
from cirrostack.transport import errors as transport_errors

State = volumes.State
Event = volumes.Event


class Wired(Protocol):
    """What the composition root wired in (``api.registry.Services``): the agents."""

    def need_agents(self) -> Any: ...


@dataclass(frozen=True)
class Near:
    """Where the volume's user runs (a VM's host): the allocator looks only at pools there."""

    pod_id: int | None
    cluster_id: int | None
    host_id: int | None = None


@dataclass(frozen=True)
class _Planned:
    volume_id: int
    pool_id: int
    size: int
    target: Any
    data: protocol.VolumeObjectTO
    template_id: int | None
    #: The template's copy on the pool, as the clone's source (path filled in by ``ensure``).
    template: protocol.TemplateObjectTO | None


def request_of(volume: models.Volume, offering: offerings.DiskOffering) -> pools.VolumeRequest:
    """What the allocator is asked for ``volume`` (made from ``offering``)."""
    return pools.VolumeRequest(
        zone_id=volume.data_center_id,
        size=volume.size or 0,
        disk_offering_id=offering.id,
        tags=tuple(tag.strip() for tag in (offering.tags or "").split(",") if tag.strip()),
        use_local_storage=offering.use_local_storage,
        provisioning_type=volume.provisioning_type,
        template_id=volume.template_id,
        account_id=volume.account_id,
        volume_type=volume.volume_type,
    )


def _place(
    session: Session,
    volume: models.Volume,
    offering: offerings.DiskOffering,
    near: Near | None = None,
) -> models.StoragePool:
    """The allocator's choice, claimed (``allocators.pools.place``), among the pools ``near``
    reaches when given."""
    request = request_of(volume, offering)
    if near is not None:
        request = dataclasses.replace(
            request, pod_id=near.pod_id, cluster_id=near.cluster_id, host_id=near.host_id
        )
    pool, _decision = pools.place(session, request)
    # Serialise with deleteStoragePool (which holds this lock while it looks for volumes). The
    # claim came first here, so a delete racing it may deadlock with this run: the run is then
    # retried and finds the pool gone.
    return pool_rows.lock(session, pool.id)


def check_pool(session: Session, volume: models.Volume, pool: models.StoragePool) -> None:
    """Refuse ``pool`` for the Allocated ``volume`` unless the allocator would accept it: the
    pool's verdict in a decision over every pool of the zone (state, scope, tags, thresholds,
    room). Called when createVolume names a pool (``storageid``); claims nothing.

    Raises InvalidParameterValue with the verdict's reasons."""
    if pool.data_center_id != volume.data_center_id:
        raise errors.InvalidParameterValue(
            f"Storage pool {pool.name} is not in the volume's zone: choose a pool of its zone"
        )
    offering = session.get_one(offerings.DiskOffering, volume.disk_offering_id)
    decision = pools.decide(session, request_of(volume, offering), every_pool=True)
    verdict = next((v for v in decision.verdicts if v.pool_id == pool.id), None)
    if verdict is None or not verdict.accepted:
        why = "; ".join(f"{r.code}: {r.text}" for r in verdict.reasons) if verdict else ""
        raise errors.InvalidParameterValue(
            f"Storage pool {pool.name} is not suitable for volume {volume.name or volume.uuid}"
            f" ({why or 'not a candidate'}); explainStoragePlacement shows every pool's verdict"
        )


def _claim(
    session: Session, volume: models.Volume, pool: models.StoragePool | None, near: Near | None
) -> Any:
    offering = session.get_one(offerings.DiskOffering, volume.disk_offering_id)
    if pool is None:
        return _place(session, volume, offering, near)
    pool = pool_rows.lock(session, pool.id)  # no volume lands on a pool being deleted
    if not claims.claim_on(session, pool, volume.size or 0):
        raise errors.ResourceUnavailable(
            f"Insufficient allocated capacity on storage pool {pool.name} for volume "
            f"{volume.uuid} ({volume.size} bytes)"
        )
    return pool


def _plan(
    session: Session, volume: models.Volume, pool: models.StoragePool | None, near: Near | None
) -> _Planned:
    if State(volume.state) is not State.Allocated:
        raise errors.ResourceUnavailable(
            f"Volume {volume.uuid} is {volume.state}: only an Allocated volume is created on a pool"
        )
    chosen: models.StoragePool = _claim(session, volume, pool, near)
    target = pool_targets.target_for(session, chosen)
    gate.transition(
        session,
        volume,
        Event.CreateRequested,
        values={"pool_id": chosen.id, "pool_type": chosen.pool_type},
    )
    data = volume_delete.data_of(volume, chosen)
    source = None
    if volume.template_id is not None:
        template = session.get_one(templates.VmTemplate, volume.template_id)
        source = protocol.TemplateObjectTO(
            uuid=template.uuid,
            id=template.id,
            name=template.unique_name or template.name,
            format=protocol.ImageFormat(template.format.upper()),
            image_data_store=data.data_store,
            size=template.size,
            account_id=template.account_id,
        )
    return _Planned(
        volume.id, chosen.id, volume.size or 0, target, data, volume.template_id, source
    )


def create_on_pool(
    session: Session,
    sessions: sessionmaker[Session],
    services: Wired,
    job: context.Job,
    volume: models.Volume,
    pool: models.StoragePool | None = None,
    near: Near | None = None,
) -> models.Volume:
    """Create the Allocated ``volume`` on ``pool`` (None: the allocator's choice, among the
    pools reached from ``near`` when given: a VM's host); Ready.

    ``session`` is the job's, ``job`` its context. Raises ResourceUnavailable with the
    agent's reason (nothing left on the pool, the volume Allocated on no pool again)."""
    plan = _plan(session, volume, pool, near)
    job.checkpoint()
    fleet = services.need_agents()
    try:
        made = _make(sessions, fleet, job, plan)
    except (transport_errors.TransportError, errors.CloudError) as exc:
        _undo(session, fleet, job, plan)
        if isinstance(exc, errors.CloudError):
            raise
        raise errors.ResourceUnavailable(f"Failed to create volume {volume.uuid}: {exc}") from exc
    found = session.get_one(models.Volume, plan.volume_id)
    gate.transition(
        session,
        found,
        Event.OperationSucceeded,
        fence=job.fence(),
        values={
            "path": getattr(made, "path", None),
            "size": getattr(made, "size", None) or plan.size,
            "format": (getattr(made, "format", None) or protocol.ImageFormat.QCOW2).value,
        },
    )
    return found


def _make(
    sessions: sessionmaker[Session], fleet: Any, job: context.Job, plan: _Planned
) -> protocol.DataTO:
    """The agent's work: an empty volume (CreateObjectCommand), or the template's copy on the
    pool made once and the volume cloned from it (CopyCommand pool template → volume)."""
    progress = context.AgentProgress(job)
    if plan.template is None or plan.template_id is None:
        command = protocol.CreateObjectCommand(data=plan.data)
        created = pool_targets.exchange(
            fleet, plan.target, command, protocol.CreateObjectAnswer, progress
        )
        return created.data
    path = template_pool.ensure(sessions, fleet, job, plan.template_id, plan.pool_id)
    source = dataclasses.replace(plan.template, path=path)
    clone = protocol.CopyCommand(src=source, dest=plan.data)
    copied = pool_targets.exchange(fleet, plan.target, clone, protocol.CopyCmdAnswer, progress)
    return copied.new_data


def _undo(session: Session, fleet: Any, job: context.Job, plan: _Planned) -> None:
    """Nothing left on the pool, the volume Allocated on no pool, the capacity back."""
    leftover = protocol.DeleteCommand(data=_named(plan.data))
    with contextlib.suppress(transport_errors.TransportError):
        pool_targets.exchange(fleet, plan.target, leftover, messages.Answer)
    found = session.get_one(models.Volume, plan.volume_id)
    gate.transition(
        session,
        found,
        Event.OperationFailed,
        fence=job.fence(),
        values={"pool_id": None, "pool_type": None, "path": None},
    )
    claims.release(session, plan.pool_id, plan.size)
    job.checkpoint()


def _named(data: protocol.VolumeObjectTO) -> protocol.VolumeObjectTO:
    """The volume under the name the agent gives a new volume on a pool (its uuid)."""
    return dataclasses.replace(data, path=data.path or data.uuid)
