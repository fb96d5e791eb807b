"""deleteVolume: a volume on no pool leaves at once; one on a pool is deleted there first.

deleteVolume is sync (as in CloudStack), so the storage work runs in the command's ``before``
step, which has no transaction open. First the volume's copies on image stores go (an
uploaded volume's file, extract copies: ``volume_store.remove_copies``); then, for a volume on
a pool:

1. a short transaction checks the volume (in reach, detached, Ready or already Destroy) and
   moves it Ready → Destroy, and reads the pool's endpoint and transfer object;
2. DeleteCommand on the pool's host, with no transaction open (a file already gone is a
   success there);
3. the command's own transaction (``delete``) moves it Destroy → Expunging → Expunged, gives
   the pool's allocated capacity back and releases the owner's limits.

If the DeleteCommand fails, the volume stays Destroy with its pool and file recorded, the
agent's error is the answer, and a later deleteVolume tries again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.allocators import claims
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate
from cirrostack.storage import pool_targets, volume_store, volume_upload, volumes
from cirrostack.transport import errors as transport_errors

State = volumes.State


class Wired(Protocol):
    """What the composition root wired in (``api.registry.Services``): the agents."""

    def need_agents(self) -> agents.Agents: ...


@dataclass(frozen=True)
class Removed:
    """What the ``before`` step did: the volume whose file is gone from its pool."""

    volume_id: int


@dataclass(frozen=True)
class _Work:
    volume_id: int
    target: agents.Target
    command: protocol.DeleteCommand


def data_of(volume: models.Volume, pool: models.StoragePool) -> protocol.VolumeObjectTO:
    """The volume as a transfer object on its pool."""
    return protocol.VolumeObjectTO(
        uuid=volume.uuid,
        id=volume.id,
        name=volume.name or volume.uuid,
        volume_type=protocol.VolumeType(volume.volume_type)
        if volume.volume_type in protocol.VolumeType.__members__.values()
        else protocol.VolumeType.DATADISK,
        data_store=pool_targets.store_of(pool),
        size=volume.size or 0,
        path=volume.path,
        format=protocol.ImageFormat(volume.format.upper()) if volume.format else None,
        provisioning_type=protocol.ProvisioningType(volume.provisioning_type),
        account_id=volume.account_id,
    )


def remove_file(
    sessions: sessionmaker[Session], services: Wired, caller: access.Caller, uuid: str
) -> Removed | None:
    """Steps 1 and 2 (deleteVolume's ``before`` step); None for a volume on no pool."""
    with sessions() as session:
        volume = volumes.by_uuid(session, caller, uuid)
        volumes.check_deletable(volume)
        volume_id = volume.id
        work = _destroy(session, volume, caller)
        session.commit()
    # After Destroy: no extract starts on it now (an extract locks the volume, wants Ready).
    volume_store.remove_copies(sessions, services.need_agents(), volume_id)
    if work is None:
        return None
    try:
        pool_targets.exchange(services.need_agents(), work.target, work.command, messages.Answer)
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(f"Failed to delete volume {uuid}: {exc}") from exc
    return Removed(work.volume_id)


def _destroy(session: Session, volume: models.Volume, caller: access.Caller) -> _Work | None:
    if volume.pool_id is None:
        return None
    if State(volume.state) is State.Ready:
        gate.transition(session, volume, volumes.Event.DestroyRequested, actor=caller)
    elif State(volume.state) is not State.Destroy:
        raise errors.ResourceUnavailable(
            f"Volume {volume.uuid} is {volume.state}: only Ready or destroyed volumes can be "
            "deleted"
        )
    pool = session.get_one(models.StoragePool, volume.pool_id)
    target = pool_targets.target_for(session, pool)
    return _Work(volume.id, target, protocol.DeleteCommand(data=data_of(volume, pool)))


def delete(
    session: Session,
    caller: access.Caller,
    volume: models.Volume,
    removed: Removed | None,
    now: datetime.datetime,
) -> None:
    """deleteVolume's transaction (step 3, or the whole of it for a volume on no pool)."""
    if volume.pool_id is None:
        upload = volume_store.upload_ever(session, volume.id)
        if upload is None:
            volumes.delete_record(session, caller, volume, now)
            return
        volumes.check_deletable(volume)
        volumes.expunge_record(session, volume, now, caller, release=False)
        volume_upload.release(session, volume, upload)
        return
    if removed is None or removed.volume_id != volume.id:
        raise errors.ResourceUnavailable(
            f"Volume {volume.uuid} changed while it was being deleted: try again"
        )
    pool_id = volume.pool_id
    volumes.expunge_record(session, volume, now, caller)
    claims.release(session, pool_id, volume.size or 0)
