"""A volume's copies on image stores (``volume_store_ref``): the uploaded volume, and extracts.

Shared by uploadVolume (``volume_upload``), extractVolume (``volume_extract``), deleteVolume and
the extract cleanup. A copy row is inserted Allocated and moves through the ObjectInDataStore
machine by the gate (Creating while an agent writes it, held by the job; Ready; Failed;
Destroying → Destroyed, which sets ``destroyed``). An upload's row has the source ``url``; an
extract's row has ``download_url`` (the SHA-256 of the link's token, never the token) and
``download_url_created``.

Image-store commands go to an Up host of the store's zone (CloudStack sends them to its SSVM);
the exchange runs with no transaction open, the target read beforehand.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.db.models import infrastructure
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from cirrostack.infrastructure import agents
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate, machines
from cirrostack.storage import image_stores, pool_targets, templates
from cirrostack.transport import endpoint
from cirrostack.transport import errors as transport_errors

Ref = models.VolumeStoreRef
OState = machines.ObjectInDataStoreState
OEvent = machines.ObjectInDataStoreEvent
#: ``error_str`` holds 255 characters.
ERROR_LENGTH = 255


class DownloadState(enum.StrEnum):
    """``volume_store_ref.download_state`` values we write (CloudStack's Status names)."""

    NOT_DOWNLOADED = "NOT_DOWNLOADED"
    DOWNLOAD_IN_PROGRESS = "DOWNLOAD_IN_PROGRESS"
    DOWNLOADED = "DOWNLOADED"
    DOWNLOAD_ERROR = "DOWNLOAD_ERROR"


@dataclass(frozen=True)
class StoreFile:
    """A copy's file as an agent needs it, read in a short transaction."""

    ref_id: int
    target: agents.Target
    data: protocol.VolumeObjectTO


def live_refs(session: Session, volume_id: int) -> Sequence[models.VolumeStoreRef]:
    """The volume's copies not destroyed, by id."""
    return session.scalars(
        sa.select(Ref).where(Ref.volume_id == volume_id, Ref.destroyed.is_(False)).order_by(Ref.id)
    ).all()


def upload_of(session: Session, volume_id: int) -> models.VolumeStoreRef | None:
    """The volume's upload copy (the one with a source URL), if it was uploaded."""
    return next((ref for ref in live_refs(session, volume_id) if ref.url is not None), None)


def uploads_of(session: Session, volume_ids: Sequence[int]) -> dict[int, models.VolumeStoreRef]:
    """The upload copies of a page of volumes (one query), by volume id."""
    if not volume_ids:
        return {}
    found = session.scalars(
        sa.select(Ref)
        .where(Ref.volume_id.in_(set(volume_ids)), Ref.url.is_not(None), Ref.destroyed.is_(False))
        .order_by(Ref.id)
    )
    return {ref.volume_id: ref for ref in found}


def roomiest(session: Session, zone_id: int) -> storage_models.ImageStore:
    """The store a volume's copy goes to: the zone's roomiest under
    ``secondary.storage.capacity.threshold``, as for a private template; InvalidParameterValue
    when the zone has none."""
    try:
        return templates.stores_for(session, zone_id, public=False)[0]
    except errors.InvalidParameterValue:
        raise errors.InvalidParameterValue(
            "Unable to find an image store with room for the volume in its zone"
        ) from None


def zone_target(session: Session, zone_id: int, what: str) -> agents.Target:
    """An Up host of the zone for image-store work; ResourceUnavailable when none is Up."""
    found = endpoint.any_up_in_zone(session, zone_id)
    if found is None:
        raise errors.ResourceUnavailable(f"No Up host in the image store's zone to {what}")
    return agents.target_of(session, session.get_one(infrastructure.Host, found.host_id))


def on_store(
    session: Session, ref: models.VolumeStoreRef, volume: storage_models.Volume
) -> protocol.VolumeObjectTO:
    """The volume as a transfer object on the copy's image store, at its install path."""
    store = session.get_one(storage_models.ImageStore, ref.store_id)
    return protocol.VolumeObjectTO(
        uuid=volume.uuid,
        id=volume.id,
        name=volume.name or volume.uuid,
        volume_type=protocol.VolumeType.DATADISK,
        data_store=image_stores.transfer_object(session, store),
        size=ref.size or volume.size or 0,
        path=ref.install_path,
        format=protocol.ImageFormat(volume.format.upper()) if volume.format else None,
        account_id=volume.account_id,
    )


def destroying(
    session: Session, ref: models.VolumeStoreRef, volume: storage_models.Volume
) -> StoreFile | None:
    """Move a copy to Destroying; its file to delete, or None when it has none (a copy that
    never became Ready: the agent leaves nothing when a write fails)."""
    if OState(ref.state) is not OState.Destroying:
        gate.transition(session, ref, OEvent.DestroyRequested)
    if not ref.install_path:
        return None
    target = zone_target(session, ref.zone_id, "delete the volume's copy on its image store")
    return StoreFile(ref.id, target, on_store(session, ref, volume))


def delete_file(fleet: agents.Agents, found: StoreFile) -> None:
    """DeleteCommand of a copy's file (no transaction open; a file already gone is a success);
    raises ResourceUnavailable with the agent's reason."""
    command = protocol.DeleteCommand(data=found.data)
    try:
        pool_targets.exchange(fleet, found.target, command, messages.Answer)
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(
            f"Failed to delete volume {found.data.uuid} from its image store: {exc}"
        ) from exc


def quietly_delete(fleet: agents.Agents, found: StoreFile) -> None:
    """``delete_file`` for clean-up after a failure, where the first error is the one to tell."""
    with contextlib.suppress(errors.CloudError):
        delete_file(fleet, found)


def destroyed(session: Session, ref_id: int) -> None:
    """Destroying → Destroyed (``destroyed`` set by the binding) once the file is gone."""
    ref = session.get_one(Ref, ref_id)
    if OState(ref.state) is OState.Destroying:
        gate.transition(session, ref, OEvent.OperationSuccessed)


def upload_ever(session: Session, volume_id: int) -> models.VolumeStoreRef | None:
    """The volume's upload copy, destroyed or not (deleteVolume releases what it counted)."""
    return session.scalars(
        sa.select(Ref).where(Ref.volume_id == volume_id, Ref.url.is_not(None)).order_by(Ref.id)
    ).first()


def remove_copies(sessions: sessionmaker[Session], fleet: agents.Agents, volume_id: int) -> None:
    """deleteVolume's part on image stores: each live copy Destroying (short transaction), its
    file deleted (none open), then Destroyed. A copy an agent is writing (Creating) refuses
    the deletion with ResourceUnavailable; a failed delete leaves the copy Destroying, and a
    later deleteVolume tries again."""
    with sessions() as session:
        refs = live_refs(session, volume_id)
        busy = [ref for ref in refs if OState(ref.state) is OState.Creating]
        if busy:
            raise errors.ResourceUnavailable(
                f"Volume {volume_id} is being copied to an image store: wait for it to finish"
            )
        volume = session.get_one(storage_models.Volume, volume_id)
        files = [(ref.id, destroying(session, ref, volume)) for ref in refs]
        session.commit()
    for ref_id, found in files:
        if found is not None:
            delete_file(fleet, found)
        with sessions() as session:
            destroyed(session, ref_id)
            session.commit()
