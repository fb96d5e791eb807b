"""resizeVolume: a new size (custom offering) or a new disk offering.

An Allocated volume is only a record: its size, offering and ``primary_storage`` count change
in one transaction. A Ready volume changes on its pool:

- at the request (``begin``): the growth is reserved against the owner's limits and claimed
  on the pool's allocated capacity (one conditional UPDATE each), and the volume goes
  Ready → Resizing, all in the request's transaction;
- in the job (``finish``): ResizeVolumeCommand on the pool's host with no transaction open,
  then Ready with the size qemu-img reports; on failure the reservation and the claim are
  given back and the volume is Ready at its old size, with the agent's reason as the error.

Shrinking needs ``shrinkok=true``, and a qcow2 volume is never shrunk (qemu-img cannot shrink
qcow2 safely; CloudStack refuses it on KVM too).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, limits, resources
from cirrostack.allocators import claims
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import offerings
from cirrostack.db.models import storage as models
from cirrostack.jobs import context
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate
from cirrostack.storage import pool_targets, volume_delete, volume_store, volumes
from cirrostack.transport import errors as transport_errors

State = volumes.State
Event = volumes.Event


@dataclass(frozen=True)
class Resize:
    """What resizeVolume asks for."""

    size_gb: int | None = None
    offering: offerings.DiskOffering | None = None
    shrink_ok: bool = False


def new_size(session: Session, volume: models.Volume, wanted: Resize) -> int:
    """The volume's size after the resize, in bytes; InvalidParameterValue if not allowed."""
    offering = wanted.offering or session.get_one(offerings.DiskOffering, volume.disk_offering_id)
    if wanted.offering is None and wanted.size_gb is None:
        raise errors.InvalidParameterValue("Specify size or diskofferingid to resize a volume")
    if not offering.customized and wanted.size_gb is not None:
        raise errors.InvalidParameterValue(
            f"Disk offering {offering.uuid} has a fixed size: size can only be given with a "
            "custom disk offering"
        )
    size = volumes.size_for(session, offering, wanted.size_gb)
    current = volume.size or 0
    if size < current:
        if not wanted.shrink_ok:
            raise errors.InvalidParameterValue(
                f"Going from existing size of {current} to size of {size} would shrink the "
                "volume. Need to sign off by supplying the shrinkok parameter with value of true."
            )
        if volume.state != State.Allocated.value and (volume.format or "").upper() == "QCOW2":
            raise errors.InvalidParameterValue(
                f"Shrink of volume {volume.uuid} is refused: a qcow2 volume cannot be shrunk"
            )
    return size


def _owner(session: Session, volume: models.Volume) -> account_models.Account:
    return session.get_one(account_models.Account, volume.account_id)


def _count(session: Session, volume: models.Volume, delta: int) -> None:
    """Reserve (growth) or release (shrink) the owner's primary_storage by ``delta``."""
    kind = resources.ResourceType.PRIMARY_STORAGE
    if delta > 0:
        limits.reserve(session, _owner(session, volume), kind, delta)
    elif delta < 0:
        limits.release(session, _owner(session, volume), kind, -delta)


def begin(session: Session, caller: access.Caller, volume: models.Volume, wanted: Resize) -> None:
    """At the request: the checks, the reservation, the claim, and Resizing for a Ready volume;
    the whole resize for an Allocated one."""
    size = new_size(session, volume, wanted)
    delta = size - (volume.size or 0)
    state = State(volume.state)
    if state is State.Allocated and volume_store.upload_ever(session, volume.id) is not None:
        # A failed upload: it counts no primary storage, and it is only ever deleted.
        raise errors.InvalidParameterValue(
            f"Volume {volume.uuid} is an upload that failed: delete it and upload again"
        )
    if state is State.Allocated:
        _count(session, volume, delta)
        volume.size = size
        if wanted.offering is not None:
            volume.disk_offering_id = wanted.offering.id
        session.flush()
        return
    if state is not State.Ready or volume.pool_id is None:
        raise errors.ResourceUnavailable(
            f"Volume {volume.uuid} is {volume.state}: only Allocated or Ready volumes are resized"
        )
    _count(session, volume, delta)
    pool = session.get_one(models.StoragePool, volume.pool_id)
    if delta > 0 and not claims.claim_on(session, pool, delta):
        raise errors.ResourceUnavailable(
            f"Insufficient allocated capacity on storage pool {pool.name} to grow volume "
            f"{volume.uuid} by {delta} bytes"
        )
    gate.transition(session, volume, Event.ResizeRequested, actor=caller)


def finish(
    session: Session,
    services: Any,
    job: context.Job | None,
    volume: models.Volume,
    wanted: Resize,
    now: datetime.datetime,
) -> models.Volume:
    """In the job: the agent's resize of a Resizing volume, then Ready (or back, undone)."""
    if State(volume.state) is not State.Resizing:
        return volume  # an Allocated volume was resized at the request
    old = volume.size or 0
    size = _target_size(session, volume, wanted)
    pool = session.get_one(models.StoragePool, volume.pool_id)
    target = pool_targets.target_for(session, pool)
    command = protocol.ResizeVolumeCommand(
        volume=volume_delete.data_of(volume, pool), new_size=size, shrink_ok=wanted.shrink_ok
    )
    volume_id, pool_id = volume.id, pool.id
    if job is not None:
        job.checkpoint()
    try:
        answer = pool_targets.exchange(
            services.need_agents(), target, command, protocol.ResizeVolumeAnswer
        )
    except transport_errors.TransportError as exc:
        found = session.get_one(models.Volume, volume_id)
        _count(session, found, old - size)
        if size > old:
            claims.release(session, pool_id, size - old)
        gate.transition(session, found, Event.OperationFailed, fence=job.fence() if job else None)
        if job is not None:
            job.checkpoint()
        raise errors.ResourceUnavailable(f"Failed to resize volume {found.uuid}: {exc}") from exc
    found = session.get_one(models.Volume, volume_id)
    values: dict[str, object] = {"size": answer.new_size or size}
    if wanted.offering is not None:
        values["disk_offering_id"] = wanted.offering.id
    gate.transition(
        session,
        found,
        Event.OperationSucceeded,
        fence=job.fence() if job else None,
        values=values,
    )
    return found


def _target_size(session: Session, volume: models.Volume, wanted: Resize) -> int:
    offering = wanted.offering or session.get_one(offerings.DiskOffering, volume.disk_offering_id)
    return volumes.size_for(session, offering, wanted.size_gb)
