"""uploadVolume: a volume downloaded from a URL onto an image store of its zone.

At the request (``check_url`` in the command's ``before`` step, with no transaction open; then
``begin`` in its transaction): the URL passes the template checks (``url_policy``: http(s)
only, resolvable, no internal address outside ``secstorage.allowed.internal.sites``; its ending
matches the format), the checksum is well formed, the owner's ``volume`` count is reserved; the
volume is recorded Allocated and moved UploadRequested → UploadOp (held by the job), with a
``volume_store_ref`` (Allocated, NOT_DOWNLOADED, the URL and checksum) on the chosen store.

In the job (``download``), three short writes and none open while the agent works:

1. the copy Allocated → Creating (DOWNLOAD_IN_PROGRESS), the DownloadVolumeCommand built for an
   Up host of the zone; checkpoint;
2. the exchange: the agent downloads with the template checks (no redirects, the internal
   sites again, ``storage.max.volume.upload.size``, the checksum, qemu-img validation: no
   backing or data file, no raw posing as another format); each Progress is written to
   ``download_pct`` by a short UPDATE and published as the job's progress;
3. success: the copy Ready (DOWNLOADED, install path, sizes, checksum), the owner's
   ``secondary_storage`` reserved by the bytes stored (CloudStack counts an uploaded volume
   there until it is copied to a pool), the volume UploadOp → Uploaded with its virtual size
   and format. Failure (the agent's refusal, no host, or the limit): the copy Failed with the
   reason (DOWNLOAD_ERROR, ``error_str``), nothing on the store, the volume UploadOp →
   Allocated (CloudStack's row); listVolumes shows it UploadError with the reason, and
   deleteVolume removes it.

A primary_storage count and a pool come when the volume is first attached (CloudStack copies an
Uploaded volume to a pool then: Uploaded → Copying → Ready); that is the VM issue's work.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.accounts import access, limits, locks, resources
from cirrostack.config import keys, settings
from cirrostack.db import engine
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as offering_models
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents
from cirrostack.jobs import context
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate
from cirrostack.storage import (
    image_stores,
    pool_targets,
    template_paths,
    templates,
    url_policy,
    volume_store,
    volumes,
)
from cirrostack.transport import errors as transport_errors

State = volumes.State
Event = volumes.Event
DownloadState = volume_store.DownloadState
OEvent = volume_store.OEvent


@dataclass(frozen=True)
class NewUpload:
    """What uploadVolume asks for (the URL already checked by ``check_url``)."""

    name: str
    url: str
    image_format: protocol.ImageFormat
    zone: infrastructure.DataCenter
    offering: offering_models.DiskOffering
    checksum: str | None = None
    store: models.ImageStore | None = None


def parse_format(text: str) -> protocol.ImageFormat:
    """uploadVolume's ``format`` (QCOW2 or RAW); InvalidParameterValue otherwise."""
    return template_paths.parse_format(text)


def check_url(sessions: sessionmaker[Session], url: str) -> str:
    """The registration check of the URL (DNS resolution: no transaction open)."""
    with engine.reading(sessions) as session:
        sites = settings.Settings(session).get(keys.SECSTORAGE_ALLOWED_INTERNAL_SITES)
    return url_policy.check(url, url_policy.allowed_sites(sites))


def _store(session: Session, new: NewUpload) -> models.ImageStore:
    if new.store is None:
        return volume_store.roomiest(session, new.zone.id)
    serving = {store.id for store in image_stores.in_zone(session, new.zone.id)}
    if new.store.id not in serving:
        raise errors.InvalidParameterValue(
            f"Image store {new.store.uuid} does not serve zone {new.zone.uuid} or is read-only"
        )
    return new.store


def begin(
    session: Session,
    caller: access.Caller,
    owner: account_models.Account,
    new: NewUpload,
    now: datetime.datetime,
) -> models.Volume:
    """The request's part: checks, the ``volume`` reservation, the volume UploadOp and its
    copy Allocated. Raises InvalidParameterValue, PermissionDenied or ResourceAllocation, and
    then nothing is written."""
    volumes.check_zone(caller, new.zone)
    template_paths.check_extension(new.url, new.image_format)
    checksum = templates.parse_checksum(new.checksum)
    if not new.name.strip():
        raise errors.InvalidParameterValue("Specify a name that is not blank")
    chosen = _store(session, new)
    # As a template registration: the reservation first, the store's lock last.
    owner = locks.account(session, owner.id)
    limits.reserve(session, owner, resources.ResourceType.VOLUME, 1)
    store = image_stores.lock(session, chosen.id)
    volume = models.Volume(
        name=new.name,
        account_id=owner.id,
        domain_id=owner.domain_id,
        data_center_id=new.zone.id,
        volume_type=volumes.DATADISK,
        size=0,
        disk_offering_id=new.offering.id,
        format=new.image_format.value,
        provisioning_type=new.offering.provisioning_type,
        state=State.Allocated.value,
        created=now,
    )
    session.add(volume)
    session.flush()
    gate.transition(session, volume, Event.UploadRequested, actor=caller)
    session.add(
        volume_store.Ref(
            store_id=store.id,
            volume_id=volume.id,
            zone_id=new.zone.id,
            url=new.url,
            checksum=checksum,
            download_state=DownloadState.NOT_DOWNLOADED.value,
            download_pct=0,
            state=volume_store.OState.Allocated.value,
            created=now,
        )
    )
    session.flush()
    return volume


@dataclass(frozen=True)
class _Started:
    volume_id: int
    ref_id: int
    target: agents.Target | None
    failure: str | None
    command: protocol.DownloadVolumeCommand


def download(
    session: Session, fleet: agents.Agents, job: context.Job, volume_id: int
) -> models.Volume:
    """The job's part; the Uploaded volume, or ResourceUnavailable with the agent's reason
    (the volume Allocated, its copy Failed, committed)."""
    started = _start(session, volume_id)
    job.checkpoint()
    progress = _Progress(session.get_bind(), started.ref_id, job)
    answer: protocol.DownloadVolumeAnswer | None = None
    failure = started.failure
    if started.target is not None:
        try:
            answer = pool_targets.exchange(
                fleet, started.target, started.command, protocol.DownloadVolumeAnswer, progress
            )
        except transport_errors.TransportError as exc:
            failure = str(exc)
    if answer is not None:
        try:
            return _uploaded(session, job, started, answer)
        except errors.ResourceAllocation as exc:
            _remove(session, fleet, started, answer)
            failure = str(exc)
    _failed(session, job, started, failure or "the download failed")
    job.checkpoint()
    raise errors.ResourceUnavailable(f"Failed to upload volume: {failure}")


def _start(session: Session, volume_id: int) -> _Started:
    volume = session.get_one(models.Volume, volume_id)
    ref = volume_store.upload_of(session, volume_id)
    if State(volume.state) is not State.UploadOp or ref is None:
        raise errors.ResourceUnavailable(f"Volume {volume.uuid} is not being uploaded")
    gate.transition(
        session,
        ref,
        OEvent.CreateOnlyRequested,
        values={"download_state": DownloadState.DOWNLOAD_IN_PROGRESS.value, "download_pct": 0},
    )
    found = settings.Settings(session)
    store = session.get_one(models.ImageStore, ref.store_id)
    data = protocol.VolumeObjectTO(
        uuid=volume.uuid,
        id=volume.id,
        name=volume.name or volume.uuid,
        volume_type=protocol.VolumeType.DATADISK,
        data_store=image_stores.transfer_object(session, store),
        size=0,
        format=protocol.ImageFormat(volume.format or "QCOW2"),
        account_id=volume.account_id,
    )
    sites = url_policy.allowed_sites(found.get(keys.SECSTORAGE_ALLOWED_INTERNAL_SITES))
    command = protocol.DownloadVolumeCommand(
        volume=data,
        url=ref.url or "",
        checksum=ref.checksum,
        allowed_internal=tuple(str(site) for site in sites),
        max_size=found.get(keys.STORAGE_MAX_VOLUME_UPLOAD_SIZE) * volumes.GIB,
    )
    try:
        target: agents.Target | None = volume_store.zone_target(
            session, ref.zone_id, "download the volume"
        )
        failure = None
    except errors.ResourceUnavailable as exc:
        target, failure = None, str(exc)
    return _Started(volume.id, ref.id, target, failure, command)


class _Progress:
    """Each agent report: ``download_pct`` by one short UPDATE, and the job's progress."""

    def __init__(self, bind: sa.Engine | sa.Connection, ref_id: int, job: context.Job) -> None:
        self._bind = bind
        self._ref_id = ref_id
        self._job = context.AgentProgress(job)

    def __call__(self, report: messages.Progress) -> None:
        self._job(report)
        if report.total <= 0:
            return
        pct = max(0, min(100, report.done * 100 // report.total))
        ref = volume_store.Ref
        with Session(self._bind) as session:
            session.execute(
                sa.update(ref)
                .where(ref.id == self._ref_id, ref.state == volume_store.OState.Creating.value)
                .values(download_pct=pct)
            )
            session.commit()


def _uploaded(
    session: Session, job: context.Job, started: _Started, answer: protocol.DownloadVolumeAnswer
) -> models.Volume:
    made = answer.volume
    volume = session.get_one(models.Volume, started.volume_id)
    owner = locks.account(session, volume.account_id)
    kind = resources.ResourceType.SECONDARY_STORAGE
    limits.reserve(session, owner, kind, answer.physical_size)
    ref = session.get_one(volume_store.Ref, started.ref_id)
    gate.transition(
        session,
        ref,
        OEvent.OperationSuccessed,
        fence=job.fence(),
        values={
            "download_state": DownloadState.DOWNLOADED.value,
            "download_pct": 100,
            "install_path": made.path,
            "size": made.size,
            "physical_size": answer.physical_size,
            "checksum": ref.checksum or answer.checksum,
            "error_str": None,
        },
    )
    gate.transition(
        session,
        volume,
        Event.OperationSucceeded,
        fence=job.fence(),
        values={"size": made.size, "format": (made.format or protocol.ImageFormat.QCOW2).value},
    )
    return volume


def _remove(
    session: Session,
    fleet: agents.Agents,
    started: _Started,
    answer: protocol.DownloadVolumeAnswer,
) -> None:
    """The stored file goes (the limit refused it); no transaction open during the delete."""
    if started.target is None or not answer.volume.path:
        return
    session.rollback()
    volume_store.quietly_delete(
        fleet, volume_store.StoreFile(started.ref_id, started.target, answer.volume)
    )


def _failed(session: Session, job: context.Job, started: _Started, failure: str) -> None:
    ref = session.get_one(volume_store.Ref, started.ref_id)
    fence = job.fence()
    gate.transition(session, ref, OEvent.OperationFailed, fence=fence)  # Creating → Allocated
    gate.transition(
        session,
        ref,
        OEvent.OperationFailed,  # Allocated → Failed
        fence=fence,
        values={
            "download_state": DownloadState.DOWNLOAD_ERROR.value,
            "error_str": failure[: volume_store.ERROR_LENGTH],
        },
    )
    volume = session.get_one(models.Volume, started.volume_id)
    gate.transition(session, volume, Event.OperationFailed, fence=fence)  # UploadOp → Allocated


def release(session: Session, volume: models.Volume, ref: volume_store.Ref) -> None:
    """What an uploaded volume's deletion gives back: its ``volume`` count, and the
    ``secondary_storage`` its stored copy counted (none for a failed upload)."""
    owner = session.get_one(account_models.Account, volume.account_id)
    limits.release(session, owner, resources.ResourceType.VOLUME, 1)
    if ref.download_state == DownloadState.DOWNLOADED.value:
        limits.release(session, owner, resources.ResourceType.SECONDARY_STORAGE, ref.physical_size)
