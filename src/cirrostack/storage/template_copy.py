"""copyTemplate / copyIso: a template's Ready copy in one zone copied to another zone's stores.

At submit (``plan``, the request's transaction): the source is the template's Ready copy on
an image store of the source zone (the given one, else the first zone that has one); the
destination zone's stores are chosen as a registration chooses them (every writable store
for a public template, the roomiest for a private one), a store that already holds a live
copy is skipped (as CloudStack: nothing to copy) and one whose copy Failed gets a fresh
one; each new copy (``is_copy``) is inserted Allocated and moved to Creating, so the job
holds it (``states.holds``) and a lost job's copy is recovered, never stranded.

In the job (``copy``): for each copy the job holds, a CopyCommand image store → image store
(the source store's ``NfsTO``/``S3TO`` with its install path, the destination with the path
the server makes from ids) to an Up host of the destination zone, whose agent reads the
source (it mounts NFS stores and reaches S3 itself: we have no secondary storage VMs, so the
destination host copies rather than downloading from a source VM over HTTP as CloudStack's
SSVMs do) and validates the image as on ingest; progress into ``download_pct``; Ready with
the agent's path and sizes, or Failed with its reason (the agent leaves nothing), and the job
fails saying so. Never rerun blindly: a lost run's copies are recovered (``on_lost`` recover).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.db.models import infrastructure
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
    template_download,
    templates,
)
from cirrostack.transport import errors as transport_errors

_O, _OE = machines.ObjectInDataStoreState, machines.ObjectInDataStoreEvent
_LIVE = frozenset({_O.Ready, _O.Creating, _O.Allocated, _O.Copying})


@dataclass(frozen=True)
class Planned:
    """The source copy and the new copies (Creating, held by the job being submitted)."""

    source: models.TemplateStoreRef
    copies: tuple[models.TemplateStoreRef, ...]


def source_of(
    session: Session, template: models.VmTemplate, zone_id: int | None
) -> models.TemplateStoreRef:
    """The template's Ready copy on a store of ``zone_id`` (None: of any zone);
    InvalidParameterValue when there is none."""
    ref, store = models.TemplateStoreRef, storage_models.ImageStore
    statement = (
        sa.select(ref)
        .join(store, store.id == ref.store_id)
        .where(
            ref.template_id == template.id,
            ref.state == _O.Ready.value,
            ref.destroyed.is_(False),
            store.removed.is_(None),
        )
        .order_by(ref.id)
        .limit(1)
    )
    if zone_id is not None:
        statement = statement.where(store.data_center_id == zone_id)
    found = session.scalars(statement).first()
    if found is None:
        where = f"zone {_zone_name(session, zone_id)}" if zone_id is not None else "any zone"
        raise errors.InvalidParameterValue(
            f"Template {template.uuid} is not ready on an image store of {where}"
        )
    return found


def plan(
    session: Session,
    template: models.VmTemplate,
    source_zone_id: int | None,
    dest_zone_ids: Sequence[int],
) -> Planned:
    """Check the copy and insert its new copies, Creating (in the request's transaction,
    with ``holds.collect`` active so the job holds them)."""
    source = source_of(session, template, source_zone_id)
    source_zone = session.get_one(storage_models.ImageStore, source.store_id).data_center_id
    copies = []
    for zone_id in dest_zone_ids:
        if zone_id == source_zone:
            raise errors.InvalidParameterValue(
                "Please specify different source and destination zones."
            )
        for store in templates.stores_for(session, zone_id, public=template.public):
            if store.id == source.store_id:
                continue  # a region-wide store holds it for every zone already
            ref = _fresh_copy(session, template, store)
            if ref is not None:
                copies.append(ref)
    return Planned(source, tuple(copies))


def _fresh_copy(
    session: Session, template: models.VmTemplate, store: storage_models.ImageStore
) -> models.TemplateStoreRef | None:
    """A new copy on ``store``, Creating; None when the store has a live one already. A
    Failed copy is destroyed first (the agent left no file), so the store's one live copy is
    the new one."""
    ref = models.TemplateStoreRef
    existing = session.scalars(
        sa.select(ref).where(
            ref.template_id == template.id, ref.store_id == store.id, ref.destroyed.is_(False)
        )
    ).first()
    if existing is not None:
        if _O(existing.state) in _LIVE:
            return None
        gate.transition(session, existing, _OE.DestroyRequested)
        gate.transition(session, existing, _OE.OperationSuccessed)
    made = templates.add_copy(session, template, store.id)
    made.is_copy = True
    gate.transition(
        session,
        made,
        _OE.CreateOnlyRequested,
        values={"download_state": "DOWNLOAD_IN_PROGRESS", "download_pct": 0},
    )
    return made


@dataclass(frozen=True)
class _Copy:
    ref_id: int
    store: str
    target: agents.Target | None
    command: protocol.CopyCommand


def copy(
    session: Session,
    sessions: sessionmaker[Session],
    fleet: agents.Agents,
    job: context.Job,
    template: models.VmTemplate,
    source_zone_id: int | None,
    dest_zone_ids: Sequence[int],
) -> None:
    """In the job: copy the source to each of the template's Creating copies in the
    destination zones. Raises ResourceUnavailable naming each copy that failed (committed
    Failed with the agent's reason)."""
    source = source_of(session, template, source_zone_id)
    planned = [
        _command(session, template, source, ref) for ref in _held(session, template, dest_zone_ids)
    ]
    job.checkpoint()
    failures = []
    for each in planned:
        reason = _run(sessions, fleet, job, each)
        if reason is not None:
            failures.append(f"image store {each.store}: {reason}")
        job.checkpoint()
    if failures:
        raise errors.ResourceUnavailable("Failed to copy the template to " + "; ".join(failures))


def _held(
    session: Session, template: models.VmTemplate, zone_ids: Sequence[int]
) -> list[models.TemplateStoreRef]:
    """The template's Creating copies on the destination zones' stores and region-wide ones
    (this job's: jobs on one copy run one at a time, by its queue key)."""
    ref, store = models.TemplateStoreRef, storage_models.ImageStore
    return list(
        session.scalars(
            sa.select(ref)
            .join(store, store.id == ref.store_id)
            .where(
                ref.template_id == template.id,
                ref.state == _O.Creating.value,
                ref.is_copy.is_(True),
                sa.or_(store.data_center_id.in_(list(zone_ids)), store.data_center_id.is_(None)),
            )
            .order_by(ref.id)
        )
    )


def _command(
    session: Session,
    template: models.VmTemplate,
    source: models.TemplateStoreRef,
    dest: models.TemplateStoreRef,
) -> _Copy:
    source_store = session.get_one(storage_models.ImageStore, source.store_id)
    dest_store = session.get_one(storage_models.ImageStore, dest.store_id)
    where = image_stores.transfer_object(session, dest_store)
    common = {
        "uuid": template.uuid,
        "id": template.id,
        "name": template.unique_name or str(template.id),
        "format": protocol.ImageFormat(template.format),
        "account_id": template.account_id,
        "hypervisor_type": template.hypervisor_type,
        "bootable": template.bootable,
    }
    command = protocol.CopyCommand(
        src=protocol.TemplateObjectTO(
            path=source.install_path,
            image_data_store=image_stores.transfer_object(session, source_store),
            size=source.size,
            physical_size=source.physical_size,
            **common,  # type: ignore[arg-type]
        ),
        dest=protocol.TemplateObjectTO(
            path=template_download.install_path(template, where),
            image_data_store=where,
            **common,  # type: ignore[arg-type]
        ),
    )
    target = store_targets.for_store(session, dest_store)
    return _Copy(dest.id, dest_store.name, target, command)


def _run(
    sessions: sessionmaker[Session], fleet: agents.Agents, job: context.Job, each: _Copy
) -> str | None:
    """One copy with no transaction open, then its outcome written (short, fenced); the
    reason it failed, or None."""
    published = context.AgentProgress(job)

    def progress(report: messages.Progress) -> None:
        template_download.write_progress(sessions, each.ref_id, report)
        published(report)

    reason = None
    made: protocol.DataTO | None = None
    if each.target is None:
        reason = "no Up host in the destination zone to copy the template"
    else:
        try:
            answer = pool_targets.exchange(
                fleet, each.target, each.command, protocol.CopyCmdAnswer, progress
            )
            made = answer.new_data
        except transport_errors.TransportError as exc:
            reason = str(exc)
    with sessions() as session:
        ref = session.get_one(models.TemplateStoreRef, each.ref_id)
        refused: str | None = None
        if isinstance(made, protocol.TemplateObjectTO):
            refused = reason = template_download.ready(session, ref, made, fence=job.fence())
        else:
            reason = reason or "the agent answered no template"
            template_download.fail(session, ref, reason, fence=job.fence())
        session.commit()
    if refused is not None and isinstance(made, protocol.TemplateObjectTO):
        template_download.remove_refused(fleet, each.target, made)
    return reason


def _zone_name(session: Session, zone_id: int) -> str:
    zone = session.get(infrastructure.DataCenter, zone_id)
    return zone.name if zone is not None else str(zone_id)
