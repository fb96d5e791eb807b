"""deleteTemplate / deleteIso's job: every copy's file goes, and only then its row.

``delete`` runs in the job in three parts, so no transaction is open while agents work:

1. in the job's transaction: the template must not be in use by a live volume unless
   ``forced`` (CloudStack's rule, InvalidParameterValue); each live copy on an image store of
   the zone (or of every zone) moves to Destroying through the gate, and so does each copy on
   a primary pool of the zone (``template_spool_ref``) that no live volume on that pool was
   made from (a linked clone reads it: it stays, even when forced); the checkpoint commits;
2. no transaction: a DeleteCommand per copy that has a file (image store copies through an
   Up host of the store's zone, pool copies through a host of the pool); an agent answers
   success when the file is already gone, so deleting again is always safe;
3. under the job's fence: each confirmed copy Destroyed (image store copies keep their row,
   ``destroyed`` set, ABANDONED; pool copies' rows are removed and their ``template_size``
   released from the pool's allocated capacity); once no live image-store copy is left the
   template is removed and its ``template`` count released. A copy whose agent did not
   confirm stays Destroying with the reason in ``error_str``, and the job fails saying why;
   deleting again finishes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import limits, resources
from cirrostack.allocators import claims
from cirrostack.db import base
from cirrostack.db.models import accounts as account_models
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
    template_use,
)
from cirrostack.storage.templates import DownloadState
from cirrostack.transport import errors as transport_errors

_O, _OE = machines.ObjectInDataStoreState, machines.ObjectInDataStoreEvent
#: Copies a delete may not take away: a job is downloading or copying them.
_BUSY = frozenset({_O.Creating, _O.Copying, _O.Migrating})
_ERROR_LENGTH = 255


@dataclass(frozen=True)
class _Gone:
    """One copy to delete: its row, and the command (None: no file was ever made)."""

    model: type[models.TemplateStoreRef] | type[models.TemplateSpoolRef]
    ref_id: int
    where: str
    target: agents.Target | None
    command: protocol.DeleteCommand | None


def users(session: Session, template: models.VmTemplate, pool_id: int | None = None) -> list[str]:
    """The uuids of the live volumes made from ``template`` (on ``pool_id`` only, if given)."""
    volume = storage_models.Volume
    statement = sa.select(volume.uuid).where(
        volume.template_id == template.id, volume.removed.is_(None)
    )
    if pool_id is not None:
        statement = statement.where(volume.pool_id == pool_id)
    return [str(uuid) for uuid in session.scalars(statement.order_by(volume.id))]


def check_in_use(session: Session, template: models.VmTemplate, *, forced: bool) -> None:
    """InvalidParameterValue while live volumes use the template, unless ``forced`` (also
    checked at submit, so the caller hears it at once)."""
    using = users(session, template)
    if using and not forced:
        raise errors.InvalidParameterValue(
            f"Unable to delete template with id: {template.uuid} because volumes: "
            f"[{','.join(using)}] are using it."
        )


def store_copies(
    session: Session, template: models.VmTemplate, zone_id: int | None
) -> list[models.TemplateStoreRef]:
    """The template's live copies on the image stores of ``zone_id`` (and region-wide ones),
    or everywhere."""
    ref, store = models.TemplateStoreRef, storage_models.ImageStore
    statement = (
        sa.select(ref)
        .join(store, store.id == ref.store_id)
        .where(ref.template_id == template.id, ref.destroyed.is_(False))
        .order_by(ref.id)
    )
    if zone_id is not None:
        statement = statement.where(
            sa.or_(store.data_center_id == zone_id, store.data_center_id.is_(None))
        )
    return list(session.scalars(statement))


def delete(
    session: Session,
    fleet: agents.Agents,
    job: context.Job,
    template: models.VmTemplate,
    zone_id: int | None,
    *,
    forced: bool,
) -> None:
    """Delete the template's copies (in ``zone_id``, or everywhere), then the template once
    no image-store copy is left. Raises ResourceUnavailable naming every copy whose agent
    did not confirm (those stay Destroying, committed). The template's row is locked
    first, so a volume being recorded from it is either seen or refused (``template_use``)."""
    template = template_use.lock(session, template.id)
    check_in_use(session, template, forced=forced)
    gone = [*_store_plan(session, template, zone_id), *_pool_plan(session, template, zone_id)]
    template_id = template.id
    job.checkpoint()
    outcomes = [(each, _send(fleet, each)) for each in gone]
    failures = []
    for each, failure in outcomes:
        if failure is None:
            _destroyed(session, each, job.fence())
        else:
            _not_confirmed(session, each, failure)
            failures.append(f"{each.where}: {failure}")
    found = session.get_one(models.VmTemplate, template_id)
    if not failures and not store_copies(session, found, None):
        _remove(session, found)
    session.flush()
    if failures:
        job.checkpoint()
        raise errors.ResourceUnavailable(
            f"Failed to delete template {found.uuid} from " + "; ".join(failures)
        )


def _store_plan(session: Session, template: models.VmTemplate, zone_id: int | None) -> list[_Gone]:
    plan = []
    for ref in store_copies(session, template, zone_id):
        store = session.get_one(storage_models.ImageStore, ref.store_id)
        if _O(ref.state) in _BUSY:
            raise errors.ResourceUnavailable(
                f"Template {template.uuid} is being downloaded or copied to image store "
                f"{store.name}: delete it once that is done"
            )
        gate.transition(session, ref, _OE.DestroyRequested)
        command = None
        if ref.install_path:
            data = protocol.TemplateObjectTO(
                uuid=template.uuid,
                id=template.id,
                name=template.unique_name or str(template.id),
                path=ref.install_path,
                format=protocol.ImageFormat(template.format),
                image_data_store=image_stores.transfer_object(session, store),
                account_id=template.account_id,
            )
            command = protocol.DeleteCommand(data=data)
        target = store_targets.for_store(session, store) if command else None
        plan.append(
            _Gone(models.TemplateStoreRef, ref.id, f"image store {store.name}", target, command)
        )
    return plan


def _pool_plan(session: Session, template: models.VmTemplate, zone_id: int | None) -> list[_Gone]:
    spool, pool = models.TemplateSpoolRef, storage_models.StoragePool
    statement = (
        sa.select(spool, pool)
        .join(pool, pool.id == spool.pool_id)
        .where(spool.template_id == template.id)
        .order_by(spool.id)
    )
    if zone_id is not None:
        statement = statement.where(pool.data_center_id == zone_id)
    plan = []
    for ref, found in session.execute(statement).all():
        if _O(ref.state) in _BUSY or users(session, template, found.id):
            continue  # being copied, or a volume on the pool reads it
        if _O(ref.state) is not _O.Destroying:
            gate.transition(session, ref, _OE.DestroyRequested)
        data = protocol.TemplateObjectTO(
            uuid=template.uuid,
            id=template.id,
            name=template.unique_name or str(template.id),
            path=ref.install_path or template.uuid,
            format=protocol.ImageFormat(template.format),
            image_data_store=pool_targets.store_of(found),
            account_id=template.account_id,
        )
        try:
            target: agents.Target | None = pool_targets.target_for(session, found)
        except errors.ResourceUnavailable:
            target = None
        command = protocol.DeleteCommand(data=data)
        plan.append(_Gone(spool, ref.id, f"storage pool {found.name}", target, command))
    return plan


def _send(fleet: agents.Agents, gone: _Gone) -> str | None:
    """The reason the agent did not confirm the deletion, or None (no transaction open)."""
    if gone.command is None:
        return None
    if gone.target is None:
        return f"no Up host can reach {gone.where} to delete the file"
    try:
        pool_targets.exchange(fleet, gone.target, gone.command, messages.Answer)
    except transport_errors.TransportError as exc:
        return str(exc)
    return None


def _destroyed(session: Session, gone: _Gone, fence: sa.ColumnElement[bool]) -> None:
    if gone.model is models.TemplateStoreRef:
        copy = session.get_one(models.TemplateStoreRef, gone.ref_id)
        values = {"download_state": DownloadState.ABANDONED.value, "error_str": None}
        gate.transition(session, copy, _OE.OperationSuccessed, fence=fence, values=values)
        template_counts.uncount(session, copy)
        return
    ref = session.get_one(models.TemplateSpoolRef, gone.ref_id)
    gate.transition(session, ref, _OE.OperationSuccessed, fence=fence)
    claims.release(session, ref.pool_id, ref.template_size or 0)
    session.delete(ref)


def _not_confirmed(session: Session, gone: _Gone, reason: str) -> None:
    """The copy stays Destroying; its row says why (pool copies have ``error_str`` too)."""
    session.execute(
        sa.update(gone.model)
        .where(gone.model.id == gone.ref_id)
        .values(error_str=f"delete failed: {reason}"[:_ERROR_LENGTH])
    )


def _remove(session: Session, template: models.VmTemplate) -> None:
    # vm_template.state stays Active: Inactive has no transition (states/machines).
    template.removed = base.utcnow()
    owner = session.get_one(account_models.Account, template.account_id)
    limits.release(session, owner, resources.ResourceType.TEMPLATE)


def copy_keys(session: Session, template: models.VmTemplate) -> Sequence[tuple[str, int]]:
    """The queue keys of the template's live image-store copies: a delete waits for the
    downloads and copies queued before it."""
    return [("TemplateStoreRef", ref.id) for ref in store_copies(session, template, None)]
