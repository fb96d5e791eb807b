"""A template copy's download: DownloadCommand to an Up host of the store's zone, the answer
recorded on ``template_store_ref``.

Three steps, each with its own short transaction and none open while the agent works (on
SQLite a transaction holds the only write lock): ``start`` moves the copy Allocated → Creating
(DOWNLOAD_IN_PROGRESS) and builds the command; ``fetch`` exchanges it with the agent, its
progress reports written to the copy (``download_pct``) by short writes; ``finish`` records
the answer: Ready and DOWNLOADED with the path, sizes and computed checksum, or Failed and
DOWNLOAD_ERROR with the agent's message (the agent leaves nothing on the store when it
refuses). The agent checks the URL again at download time (``allowed_internal``): that is the
authoritative SSRF check.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.config import keys, settings
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from cirrostack.infrastructure import agents
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.states import gate, machines
from cirrostack.storage import image_stores, url_policy
from cirrostack.storage.templates import DownloadState
from cirrostack.transport import base as transport
from cirrostack.transport import endpoint
from cirrostack.transport import errors as transport_errors

_OE = machines.ObjectInDataStoreEvent
#: ``error_str`` is 255 characters.
_ERROR_LENGTH = 255


@dataclass(frozen=True)
class Started:
    """What ``start`` hands to ``fetch``: the copy, where to send, what to send."""

    ref_id: int
    target: endpoint.Endpoint | None
    command: protocol.DownloadCommand


def download(sessions: sessionmaker[Session], connections: agents.Agents, ref_id: int) -> bool:
    """Download one Allocated copy; True when it ended Ready. Each step commits its own
    short transaction; nothing is held while the agent downloads."""
    with sessions() as session:
        started = start(session, ref_id)
        session.commit()
    answer, failure = fetch(sessions, connections, started)
    with sessions() as session:
        ready = finish(session, ref_id, answer, failure)
        session.commit()
    return ready


def start(session: Session, ref_id: int) -> Started:
    """Allocated → Creating; the DownloadCommand and an Up host of the store's zone."""
    ref = session.get_one(models.TemplateStoreRef, ref_id)
    template = session.get_one(models.VmTemplate, ref.template_id)
    store = session.get_one(storage_models.ImageStore, ref.store_id)
    gate.transition(
        session,
        ref,
        _OE.CreateOnlyRequested,
        values={"download_state": DownloadState.DOWNLOAD_IN_PROGRESS.value, "download_pct": 0},
    )
    found = settings.Settings(session)
    sites = url_policy.allowed_sites(found.get(keys.SECSTORAGE_ALLOWED_INTERNAL_SITES))
    command = protocol.DownloadCommand(
        template=protocol.TemplateObjectTO(
            uuid=template.uuid,
            id=template.id,
            name=template.unique_name or str(template.id),
            format=protocol.ImageFormat(template.format),
            image_data_store=image_stores.transfer_object(session, store),
            account_id=template.account_id,
            checksum=template.checksum,
            hypervisor_type=template.hypervisor_type,
            bootable=template.bootable,
        ),
        url=template.url or "",
        allowed_internal=tuple(str(site) for site in sites),
        max_size=found.get(keys.MAX_TEMPLATE_ISO_SIZE) * 1024**3,
    )
    zone_id = store.data_center_id
    target = endpoint.any_up_in_zone(session, zone_id) if zone_id is not None else None
    return Started(ref_id, target, command)


def fetch(
    sessions: sessionmaker[Session], connections: agents.Agents, started: Started
) -> tuple[protocol.DownloadAnswer | None, str | None]:
    """The agent's answer, or the reason there is none (no transaction open)."""
    if started.target is None:
        return None, "No Up host in the image store's zone to download the template"

    def progress(report: messages.Progress) -> None:
        _write_progress(sessions, started.ref_id, report)

    try:
        answer = transport.exchange(
            connections.transport,
            started.target,
            started.command,
            protocol.DownloadAnswer,
            progress,
        )
    except transport_errors.TransportError as exc:
        return None, str(exc)
    return answer, None


def _write_progress(
    sessions: sessionmaker[Session], ref_id: int, report: messages.Progress
) -> None:
    """One short write of the percentage (never the state: the gate owns it)."""
    if report.total <= 0:
        return
    pct = max(0, min(100, report.done * 100 // report.total))
    with sessions() as session:
        session.execute(
            sa.update(models.TemplateStoreRef)
            .where(
                models.TemplateStoreRef.id == ref_id, models.TemplateStoreRef.state == "Creating"
            )
            .values(download_pct=pct)
        )
        session.commit()


def finish(
    session: Session,
    ref_id: int,
    answer: protocol.DownloadAnswer | None,
    failure: str | None,
) -> bool:
    """Creating → Ready with what the answer says, or → Failed with the reason."""
    ref = session.get_one(models.TemplateStoreRef, ref_id)
    if answer is not None:
        made = answer.template
        gate.transition(
            session,
            ref,
            _OE.OperationSuccessed,
            values={
                "download_state": DownloadState.DOWNLOADED.value,
                "download_pct": 100,
                "install_path": made.path,
                "size": made.size,
                "physical_size": made.physical_size or 0,
                "error_str": None,
            },
        )
        template = session.get_one(models.VmTemplate, ref.template_id)
        template.size = made.size
        if template.checksum is None:
            template.checksum = answer.checksum
        return True
    message = (failure or "download failed")[:_ERROR_LENGTH]
    gate.transition(session, ref, _OE.OperationFailed)  # Creating → Allocated
    gate.transition(
        session,
        ref,
        _OE.OperationFailed,  # Allocated → Failed
        values={"download_state": DownloadState.DOWNLOAD_ERROR.value, "error_str": message},
    )
    return False
