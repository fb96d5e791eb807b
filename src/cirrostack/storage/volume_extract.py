"""extractVolume mode=HTTP_DOWNLOAD: the volume copied to an image store, and a link to it.

At the request (``check``): extraction is enabled (``disable.extraction``), the volume is in
the zone named, extractable (a root disk as its template allows), Ready on a pool, detached
or its VM Stopped. FTP_UPLOAD is refused (431): CloudStack's SSVM pushes to an FTP server, we
have no such path.

In the job (``extract``), no transaction open while the agent copies:

1. a ``volume_store_ref`` on a store of the zone is inserted Allocated and moved to Creating
   (held by the job); CopyCommand pool → store for a host that reaches the pool (the agent
   names the file ``volumes/<account>/<volume id>/<uuid>.<ext>``; a linked clone is flattened
   by the copy); checkpoint;
2. the copy Ready with its install path and sizes, and a link token: 32 random bytes
   (``secrets.token_urlsafe``), of which only the SHA-256 is stored (``download_url``), with
   ``download_url_created``. The answer's URL is ``<extract.url.base>/client/extract/<token>/
   <volume uuid>.<ext>``; ``api.extract_route`` streams the copy's bytes to whoever holds it
   until ``extract.url.expiration.interval`` has passed, and ``extract_cleanup`` deletes the
   copy after that (every ``extract.url.cleanup.interval``).

A failed copy leaves nothing: the agent writes under a temporary name, and the row goes
Failed → Destroyed at once with the reason as the job's error. Each extract makes its own copy
and link.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.config import keys, settings
from cirrostack.db.models import compute, infrastructure
from cirrostack.db.models import storage as models
from cirrostack.db.models import templates as template_models
from cirrostack.infrastructure import agents
from cirrostack.jobs import context
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate
from cirrostack.storage import image_stores, pool_targets, volume_delete, volumes
from cirrostack.storage import volume_store as copies
from cirrostack.transport import errors as transport_errors

HTTP_DOWNLOAD, FTP_UPLOAD = "HTTP_DOWNLOAD", "FTP_UPLOAD"
#: Where the management server serves extract links (``api.extract_route``).
ROUTE = "/client/extract/"
OEvent = copies.OEvent


def token_hash(token: str) -> str:
    """What ``download_url`` stores of a link's token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_mode(mode: str) -> None:
    """HTTP_DOWNLOAD only; InvalidParameterValue naming why otherwise."""
    if mode.upper() == FTP_UPLOAD:
        raise errors.InvalidParameterValue(
            "mode FTP_UPLOAD is not supported: use mode HTTP_DOWNLOAD and download the URL"
        )
    if mode.upper() != HTTP_DOWNLOAD:
        raise errors.InvalidParameterValue(
            f"Please specify a valid extract Mode: {mode} (HTTP_DOWNLOAD)"
        )


def check(
    session: Session, volume: models.Volume, zone: infrastructure.DataCenter, mode: str
) -> None:
    """The request's checks; raises InvalidParameterValue or PermissionDenied."""
    check_mode(mode)
    if settings.Settings(session).get(keys.DISABLE_EXTRACTION):
        raise errors.PermissionDenied("Extraction has been disabled by admin")
    if volume.data_center_id != zone.id:
        raise errors.InvalidParameterValue(
            f"Please specify a valid zone: volume {volume.uuid} is not in zone {zone.uuid}"
        )
    if not _extractable(session, volume):
        raise errors.PermissionDenied(f"The volume:{volume.uuid} is not allowed to be extracted")
    if volume.state != volumes.State.Ready.value or volume.pool_id is None:
        raise errors.InvalidParameterValue(
            f"Volume {volume.uuid} is {volume.state}: only a Ready volume on a pool is extracted"
        )
    if volume.instance_id is not None:
        vm = session.get_one(compute.VmInstance, volume.instance_id)
        if vm.state != "Stopped":
            raise errors.InvalidParameterValue(
                f"Invalid state of the VM {vm.uuid}: stop it to extract volume {volume.uuid}"
            )


def _extractable(session: Session, volume: models.Volume) -> bool:
    if volume.volume_type != volumes.ROOT or volume.template_id is None:
        return True
    template = session.get_one(template_models.VmTemplate, volume.template_id)
    return template.extractable


@dataclass(frozen=True)
class Extracted:
    """The Ready copy and the link's token (shown once, in the job's answer)."""

    ref: template_models.VolumeStoreRef
    token: str

    def url(self, session: Session, volume: models.Volume) -> str:
        base = settings.Settings(session).get(keys.EXTRACT_URL_BASE).rstrip("/")
        extension = (volume.format or "qcow2").lower()
        return f"{base}{ROUTE}{self.token}/{volume.uuid}.{extension}"


@dataclass(frozen=True)
class _Planned:
    ref_id: int
    target: agents.Target
    command: protocol.CopyCommand


def extract(
    session: Session,
    fleet: agents.Agents,
    job: context.Job,
    volume: models.Volume,
    now: datetime.datetime,
) -> Extracted:
    """The job's part; ResourceUnavailable with the agent's reason (nothing left)."""
    plan = _plan(session, volume, now)
    job.checkpoint()
    try:
        answer = pool_targets.exchange(
            fleet, plan.target, plan.command, protocol.CopyCmdAnswer, context.AgentProgress(job)
        )
    except transport_errors.TransportError as exc:
        ref = session.get_one(copies.Ref, plan.ref_id)
        fence = job.fence()
        message = str(exc)[: copies.ERROR_LENGTH]
        gate.transition(session, ref, OEvent.OperationFailed, fence=fence)  # → Allocated
        gate.transition(
            session, ref, OEvent.OperationFailed, fence=fence, values={"error_str": message}
        )
        gate.transition(session, ref, OEvent.DestroyRequested, fence=fence)
        gate.transition(session, ref, OEvent.OperationSuccessed, fence=fence)  # → Destroyed
        job.checkpoint()
        raise errors.ResourceUnavailable(f"Failed to extract volume {volume.uuid}: {exc}") from exc
    made = answer.new_data
    token = secrets.token_urlsafe(32)
    ref = session.get_one(copies.Ref, plan.ref_id)
    gate.transition(
        session,
        ref,
        OEvent.OperationSuccessed,
        fence=job.fence(),
        values={
            "install_path": made.path,
            "size": getattr(made, "size", None),
            "physical_size": _physical(made),
            "download_state": copies.DownloadState.DOWNLOADED.value,
            "download_pct": 100,
            "download_url": token_hash(token),
            "download_url_created": now,
        },
    )
    return Extracted(ref, token)


def _physical(made: protocol.DataTO) -> int:
    """The bytes on the store; the virtual size when the answer does not say (a volume TO
    carries none)."""
    return int(getattr(made, "physical_size", None) or getattr(made, "size", 0) or 0)


def _plan(session: Session, volume: models.Volume, now: datetime.datetime) -> _Planned:
    # The volume row locked: deleteVolume's move to Destroy waits for this copy's row (and
    # then refuses while it is being written), or this finds the volume gone from Ready.
    found = session.scalars(
        sa.select(models.Volume)
        .where(models.Volume.id == volume.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if found.state != volumes.State.Ready.value or found.pool_id is None:
        raise errors.ResourceUnavailable(f"Volume {volume.uuid} is no longer Ready on a pool")
    store = image_stores.lock(session, copies.roomiest(session, found.data_center_id).id)
    ref = copies.Ref(
        store_id=store.id,
        volume_id=found.id,
        zone_id=found.data_center_id,
        download_state=copies.DownloadState.NOT_DOWNLOADED.value,
        state=copies.OState.Allocated.value,
        created=now,
    )
    session.add(ref)
    session.flush()
    gate.transition(session, ref, OEvent.CreateOnlyRequested)
    pool = session.get_one(models.StoragePool, found.pool_id)
    source = volume_delete.data_of(found, pool)
    dest = protocol.VolumeObjectTO(
        uuid=found.uuid,
        id=found.id,
        name=found.name or found.uuid,
        volume_type=source.volume_type,
        data_store=image_stores.transfer_object(session, store),
        size=found.size or 0,
        format=source.format,
        account_id=found.account_id,
    )
    command = protocol.CopyCommand(src=source, dest=dest)
    return _Planned(ref.id, pool_targets.target_for(session, pool), command)


def live_link(session: Session, token: str, now: datetime.datetime) -> copies.StoreFile | None:
    """The copy a link's token opens, if it is Ready and not expired; None otherwise (an
    unknown, expired or deleted link all look the same)."""
    lifetime = settings.Settings(session).get(keys.EXTRACT_URL_EXPIRATION_INTERVAL)
    ref = session.scalars(
        sa.select(copies.Ref).where(
            copies.Ref.download_url == token_hash(token),
            copies.Ref.state == copies.OState.Ready.value,
            copies.Ref.destroyed.is_(False),
            copies.Ref.download_url_created > now - datetime.timedelta(seconds=lifetime),
        )
    ).first()
    if ref is None or not ref.install_path:
        return None
    volume = session.get_one(models.Volume, ref.volume_id)
    target = copies.zone_target(session, ref.zone_id, "read the extracted volume")
    return copies.StoreFile(ref.id, target, copies.on_store(session, ref, volume))


def expired(session: Session, now: datetime.datetime) -> list[int]:
    """The extract copies whose link has expired and that are still on their stores."""
    lifetime = settings.Settings(session).get(keys.EXTRACT_URL_EXPIRATION_INTERVAL)
    return list(
        session.scalars(
            sa.select(copies.Ref.id)
            .where(
                copies.Ref.download_url.is_not(None),
                copies.Ref.destroyed.is_(False),
                copies.Ref.state.in_((copies.OState.Ready.value, copies.OState.Destroying.value)),
                copies.Ref.download_url_created <= now - datetime.timedelta(seconds=lifetime),
            )
            .order_by(copies.Ref.id)
        )
    )
