"""A template copy's download, run by the job registerTemplate/registerIso queue for it:
DownloadCommand to an Up host of the store's zone, the answer recorded on ``template_store_ref``.

``download`` runs in the job (``jobs.context.Job``) in three parts, so no transaction is open
while the agent works (on SQLite a transaction holds the only write lock):

1. in the job's transaction: the copy moves Allocated → Creating (DOWNLOAD_IN_PROGRESS) through
   the gate, which records the job's hold; a rerun after the job's worker died finds it
   Creating already and downloads again to the same server-made path (the agent writes under
   a temporary name and renames, so the file is whole or absent). A TEMPLATE.DOWNLOAD.START
   event; the checkpoint commits;
2. no transaction: the exchange; each agent progress report is written to ``download_pct`` by
   a short UPDATE (listTemplates: "12% Downloaded") and published as the job's progress;
3. under the job's fence: Ready and DOWNLOADED with the path, sizes and checksum the agent
   computed (kept when none was given), TEMPLATE.DOWNLOAD.SUCCESS; or Failed and
   DOWNLOAD_ERROR with the agent's message (the agent leaves nothing on the store: a bad
   checksum, a hostile image, an unreachable URL), TEMPLATE.DOWNLOAD.FAILED, committed, and
   the job fails with the same reason.

The agent checks the URL again at download time (``allowed_internal``): that is the
authoritative SSRF check.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors, events
from cirrostack.config import keys, settings
from cirrostack.db import base
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from cirrostack.infrastructure import agents
from cirrostack.jobs import context
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate, machines
from cirrostack.storage import (
    image_stores,
    pool_targets,
    store_targets,
    template_counts,
    template_paths,
    url_policy,
)
from cirrostack.storage.templates import DownloadState
from cirrostack.transport import errors as transport_errors

_OE = machines.ObjectInDataStoreEvent
_O = machines.ObjectInDataStoreState
#: ``error_str`` is 255 characters.
ERROR_LENGTH = 255
START, SUCCESS, FAILED = (
    "TEMPLATE.DOWNLOAD.START",
    "TEMPLATE.DOWNLOAD.SUCCESS",
    "TEMPLATE.DOWNLOAD.FAILED",
)


@dataclass(frozen=True)
class Started:
    """What ``start`` hands to ``fetch``: the copy, where to send, what to send."""

    ref_id: int
    target: agents.Target | None
    command: protocol.DownloadCommand


def download(
    session: Session,
    sessions: sessionmaker[Session],
    fleet: agents.Agents,
    job: context.Job,
    actor: events.ActorLike,
    ref_id: int,
    zone_id: int | None,
) -> bool:
    """Download the copy ``ref_id`` (in the job whose session is ``session``); True when it
    is Ready (also when it already was). ``zone_id``: the zone whose host downloads to a
    region-wide store. Raises ResourceUnavailable with the agent's reason once the copy's
    failure is committed."""
    started = start(session, ref_id, zone_id)
    if started is None:
        return True
    _event(session, actor, ref_id, START, "downloading")
    job.checkpoint()
    answer, failure = fetch(sessions, fleet, started, job)
    if finish(session, ref_id, answer, failure, fence=job.fence()):
        _event(session, actor, ref_id, SUCCESS, "downloaded")
        return True
    reason = failure or session.get_one(models.TemplateStoreRef, ref_id).error_str
    reason = reason or "download failed"
    _event(session, actor, ref_id, FAILED, f"failed: {reason}")
    job.checkpoint()
    if answer is not None:  # made, but refused by the owner's limit
        remove_refused(fleet, started.target, answer.template)
    raise errors.ResourceUnavailable(f"Failed to download the template: {reason}")


def start(session: Session, ref_id: int, zone_id: int | None = None) -> Started | None:
    """Allocated → Creating (or Creating still, on a rerun); the DownloadCommand and an Up
    host of the store's zone (``zone_id``'s for a region-wide store). None when the copy is
    Ready already; ResourceUnavailable when it is in no state to download."""
    ref = session.get_one(models.TemplateStoreRef, ref_id)
    template = session.get_one(models.VmTemplate, ref.template_id)
    store = session.get_one(storage_models.ImageStore, ref.store_id)
    state = _O(ref.state)
    progress = {"download_state": DownloadState.DOWNLOAD_IN_PROGRESS.value, "download_pct": 0}
    if state is _O.Ready:
        return None
    if state is _O.Allocated:
        gate.transition(session, ref, _OE.CreateOnlyRequested, values=progress)
    elif state is not _O.Creating:
        raise errors.ResourceUnavailable(
            f"Template {template.uuid}'s copy on image store {store.name} is {state}: "
            "there is nothing to download"
        )
    found = settings.Settings(session)
    sites = url_policy.allowed_sites(found.get(keys.SECSTORAGE_ALLOWED_INTERNAL_SITES))
    destination = image_stores.transfer_object(session, store)
    command = protocol.DownloadCommand(
        template=protocol.TemplateObjectTO(
            uuid=template.uuid,
            id=template.id,
            name=template.unique_name or str(template.id),
            path=install_path(template, destination),
            format=protocol.ImageFormat(template.format),
            image_data_store=destination,
            account_id=template.account_id,
            checksum=template.checksum,
            hypervisor_type=template.hypervisor_type,
            bootable=template.bootable,
        ),
        url=template.url or "",
        allowed_internal=tuple(str(site) for site in sites),
        max_size=found.get(keys.MAX_TEMPLATE_ISO_SIZE) * 1024**3,
    )
    return Started(ref_id, store_targets.for_store(session, store, zone_id), command)


def install_path(template: models.VmTemplate, store: protocol.DataStoreTO) -> str:
    """Where the template's file goes on ``store``, made by the server from ids only
    (``template_paths``): a rerun or a second copy lands on the same path, never beside it."""
    image_format = protocol.ImageFormat(template.format)
    if isinstance(store, protocol.S3TO):
        name = template.unique_name or str(template.id)
        return template_paths.s3_key(template.account_id, template.id, name, image_format)
    return template_paths.nfs_install_path(template.account_id, template.id, image_format)


def fetch(
    sessions: sessionmaker[Session],
    fleet: agents.Agents,
    started: Started,
    job: context.Job | None = None,
) -> tuple[protocol.DownloadAnswer | None, str | None]:
    """The agent's answer, or the reason there is none (no transaction open)."""
    if started.target is None:
        return None, "No Up host in the image store's zone to download the template"
    published = context.AgentProgress(job) if job is not None else None

    def progress(report: messages.Progress) -> None:
        write_progress(sessions, started.ref_id, report)
        if published is not None:
            published(report)

    try:
        answer = pool_targets.exchange(
            fleet, started.target, started.command, protocol.DownloadAnswer, progress
        )
    except transport_errors.TransportError as exc:
        return None, str(exc)
    return answer, None


def write_progress(sessions: sessionmaker[Session], ref_id: int, report: messages.Progress) -> None:
    """One short write of the copy's percentage (never the state: the gate owns it); a
    report without a total (the agent verifying) writes nothing."""
    if report.total <= 0:
        return
    pct = max(0, min(100, report.done * 100 // report.total))
    with sessions() as session:
        session.execute(
            sa.update(models.TemplateStoreRef)
            .where(
                models.TemplateStoreRef.id == ref_id,
                models.TemplateStoreRef.state == _O.Creating.value,
            )
            .values(download_pct=pct)
        )
        session.commit()


def finish(
    session: Session,
    ref_id: int,
    answer: protocol.DownloadAnswer | None,
    failure: str | None,
    *,
    fence: sa.ColumnElement[bool] | None = None,
) -> bool:
    """Creating → Ready with what the answer says, or → Failed with the reason."""
    ref = session.get_one(models.TemplateStoreRef, ref_id)
    if answer is not None:
        made = answer.template
        if ready(session, ref, made, fence=fence) is not None:
            return False
        template = session.get_one(models.VmTemplate, ref.template_id)
        template.size = made.size
        if template.checksum is None:
            template.checksum = answer.checksum
        return True
    fail(session, ref, failure or "download failed", fence=fence)
    return False


def ready(
    session: Session,
    ref: models.TemplateStoreRef,
    made: protocol.TemplateObjectTO,
    *,
    fence: sa.ColumnElement[bool] | None = None,
) -> str | None:
    """Creating → Ready, DOWNLOADED, with the path and sizes the agent's answer carries (a
    download's or a copy's between stores), its bytes counted for the owner; or, when the
    owner's ``secondary_storage`` limit refuses them, Failed with the limit's message, which
    is returned (the caller deletes the file: ``remove_refused``)."""
    template = session.get_one(models.VmTemplate, ref.template_id)
    stored = template_counts.stored_bytes(made.physical_size, made.size)
    refusal = template_counts.count(session, template, stored)
    if refusal is not None:
        fail(session, ref, refusal, fence=fence)
        return refusal
    gate.transition(
        session,
        ref,
        _OE.OperationSuccessed,
        fence=fence,
        values={
            "download_state": DownloadState.DOWNLOADED.value,
            "download_pct": 100,
            "install_path": made.path,
            "size": made.size,
            "physical_size": stored,
            "error_str": None,
            "last_updated": base.utcnow(),
        },
    )
    return None


def remove_refused(
    fleet: agents.Agents, target: agents.Target | None, made: protocol.TemplateObjectTO
) -> None:
    """Delete the file of a copy the limit refused (no transaction open); a failure to reach
    the agent leaves it for the orphan scan."""
    if target is None or not made.path:
        return
    with contextlib.suppress(transport_errors.TransportError):
        pool_targets.exchange(fleet, target, protocol.DeleteCommand(data=made), messages.Answer)


def fail(
    session: Session,
    ref: models.TemplateStoreRef,
    reason: str,
    *,
    fence: sa.ColumnElement[bool] | None = None,
) -> None:
    """Creating → Allocated → Failed, DOWNLOAD_ERROR, ``error_str`` the reason (also for a
    copy between stores that did not make it)."""
    gate.transition(session, ref, _OE.OperationFailed, fence=fence)  # Creating → Allocated
    gate.transition(
        session,
        ref,
        _OE.OperationFailed,  # Allocated → Failed
        fence=fence,
        values={
            "download_state": DownloadState.DOWNLOAD_ERROR.value,
            "error_str": reason[:ERROR_LENGTH],
        },
    )


def _event(session: Session, actor: events.ActorLike, ref_id: int, kind: str, what: str) -> None:
    """A TEMPLATE.DOWNLOAD.* event naming the template and the store."""
    ref = session.get_one(models.TemplateStoreRef, ref_id)
    template = session.get_one(models.VmTemplate, ref.template_id)
    store = session.get_one(storage_models.ImageStore, ref.store_id)
    events.record(
        session,
        actor,
        kind,
        f"Template {template.name} ({template.uuid}) on image store {store.name}: {what}",
        level=events.Level.ERROR if kind == FAILED else events.Level.INFO,
        resource_type="Iso" if template.format == "ISO" else "Template",
        resource_id=template.id,
    )
