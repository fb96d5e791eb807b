"""A VM's disks beyond creation: removed with their files (a failed deploy, destroy with
``volumeids``, expunge) or detached (destroy keeps the data disks it was not told to remove).

``remove`` runs in a job: per volume a short write (Ready → Destroy, the pool's endpoint
read), the job's checkpoint, the DeleteCommand with no transaction open, then the record
expunged (Destroy → Expunging → Expunged), the pool's capacity and the owner's counts given
back, VOLUME.DELETE recorded, all in the next short write.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import claims
from cirrostack.compute import usage
from cirrostack.db.models import storage as storage_models
from cirrostack.jobs import context
from cirrostack.protocol import messages
from cirrostack.protocol import storage as storage_protocol
from cirrostack.states import gate
from cirrostack.storage import pool_targets, volume_delete, volumes
from cirrostack.transport import errors as transport_errors


def remove(
    session: Session,
    fleet: Any,
    job: context.Job,
    volume_ids: Iterable[int],
    actor: gate.ActorLike,
    now: datetime.datetime,
) -> None:
    """Delete each volume's file from its pool and expunge its record; raises
    ResourceUnavailable when an agent cannot delete a file (that volume stays Destroy)."""
    for volume_id in volume_ids:
        volume = session.get_one(storage_models.Volume, volume_id)
        if volumes.State(volume.state) is volumes.State.Expunged:
            continue
        pool_id = volume.pool_id
        if pool_id is not None:
            _delete_file(session, fleet, job, volume, actor)
            volume = session.get_one(storage_models.Volume, volume_id)
        usage.of_volume(session, usage.VOLUME_DELETE, volume)
        volume.instance_id = None
        volume.device_id = None
        volumes.expunge_record(session, volume, now, actor)
        if pool_id is not None:
            claims.release(session, pool_id, volume.size or 0)
        job.checkpoint()


def _delete_file(
    session: Session,
    fleet: Any,
    job: context.Job,
    volume: storage_models.Volume,
    actor: gate.ActorLike,
) -> None:
    if volumes.State(volume.state) is volumes.State.Ready:
        gate.transition(session, volume, volumes.Event.DestroyRequested, actor=actor)
    assert volume.pool_id is not None
    pool = session.get_one(storage_models.StoragePool, volume.pool_id)
    target = pool_targets.target_for(session, pool)
    command = storage_protocol.DeleteCommand(data=volume_delete.data_of(volume, pool))
    job.checkpoint()
    try:
        pool_targets.exchange(fleet, target, command, messages.Answer)
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(f"Failed to delete volume {volume.uuid}: {exc}") from exc


def detach(session: Session, volume: storage_models.Volume) -> None:
    """The data disk stays, attached to nothing (destroyVirtualMachine's rule)."""
    volume.instance_id = None
    volume.device_id = None
    volume.attached = None
