"""A template reaches a pool once: the one ``template_spool_ref`` row per (template, pool).

``ensure`` is called by volume creation from a template, with no transaction open. The unique
key (template_id, pool_id) settles who copies: each request inserts the row or finds it; the
one whose gate transition Allocated → Creating wins runs the CopyCommand (image store → pool)
with no transaction open, and writes Ready with the copy's install path and size; the others
poll the row (short reads, a bounded wait, the job kept alive) until it is Ready. So ten
concurrent requests make one copy and none fails for losing the race.

The copy's ``template_size`` counts into the pool's allocated capacity (claimed by the winner
before it copies, released if the copy fails). A failed copy deletes whatever the agent left
(DeleteCommand of the copy's name, the template uuid) and puts the row back to Allocated, so a
later request copies again; waiters see Allocated and try to win it themselves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.allocators import claims
from cirrostack.db import base, transactions
from cirrostack.db.models import storage as models
from cirrostack.db.models import templates
from cirrostack.jobs import context
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.states import errors as state_errors
from cirrostack.states import gate, holds
from cirrostack.states.machines import storage as machines
from cirrostack.storage import image_stores, pool_targets
from cirrostack.transport import errors as transport_errors

State = machines.ObjectInDataStoreState
Event = machines.ObjectInDataStoreEvent

#: How long a request waits for another's copy before it gives up (seconds), and how often
#: it looks.
WAIT_SECONDS = 3600.0
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class _Copy:
    ref_id: int
    pool_id: int
    size: int
    target: Any
    command: protocol.CopyCommand
    dest: protocol.TemplateObjectTO


def ensure(
    sessions: sessionmaker[Session],
    fleet: Any,
    job: context.Job,
    template_id: int,
    pool_id: int,
    *,
    wait: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The install path of the template's copy on the pool, made now if there is none.

    Called with no transaction open. Raises ResourceUnavailable when the copy fails (the
    agent's reason) or another request's copy takes longer than ``wait``."""
    deadline = time.monotonic() + wait
    holder = _job_id(job)
    _insert_row(sessions, template_id, pool_id)
    while True:
        path, copy = transactions.run(
            sessions,
            lambda session: _look(session, template_id, pool_id, holder),
            name="template copy on a pool",
        )
        if path is not None:
            return path
        if copy is not None:
            return _run(sessions, fleet, job, copy)
        if time.monotonic() > deadline:
            raise errors.ResourceUnavailable(
                f"Timed out after {wait:.0f} s waiting for template {template_id}'s copy on "
                f"pool {pool_id}"
            )
        job.activity()
        sleep(POLL_SECONDS)


def _look(
    session: Session, template_id: int, pool_id: int, holder: int | None
) -> tuple[str | None, _Copy | None]:
    """The copy's install path when it is Ready, or the copy to run when this request won it."""
    ref = session.scalars(
        _ROW.where(
            templates.TemplateSpoolRef.template_id == template_id,
            templates.TemplateSpoolRef.pool_id == pool_id,
        )
    ).one()
    state = State(ref.state)
    if state is State.Ready and ref.install_path:
        return ref.install_path, None
    if state is not State.Allocated:
        return None, None
    if holder is not None:
        holds.act_for(session, holder)  # a copier that dies: the reaper resets the row
    return None, _win(session, ref)


def _job_id(job: context.Job) -> int | None:
    """The id of the job a JobContext runs (None for other ``Job`` implementations)."""
    claim = getattr(job, "claim", None)
    ident = getattr(claim, "job_id", None)
    return ident if isinstance(ident, int) else None


_ROW = sa.select(templates.TemplateSpoolRef)


def _insert_row(sessions: sessionmaker[Session], template_id: int, pool_id: int) -> None:
    """The (template, pool) row, inserted in a transaction of its own when it is missing.

    A concurrent insert wins the unique key, and this one is rolled back at once: on
    MariaDB the loser's shared lock on the duplicate ends with it (held on into the polling
    transaction, several losers' locks deadlock), and the next transaction's snapshot sees
    the winner's row (REPEATABLE READ: a read in the same transaction would not)."""
    ref = templates.TemplateSpoolRef

    def insert(session: Session) -> None:
        found = session.scalar(
            sa.select(ref.id).where(ref.template_id == template_id, ref.pool_id == pool_id)
        )
        if found is None:
            session.add(
                ref(
                    template_id=template_id,
                    pool_id=pool_id,
                    state=State.Allocated.value,
                    download_state="NOT_DOWNLOADED",
                    created=base.utcnow(),
                )
            )
            session.flush()

    with contextlib.suppress(sa.exc.IntegrityError):
        transactions.run(sessions, insert, name="template copy row")


def _win(session: Session, ref: templates.TemplateSpoolRef) -> _Copy | None:
    """Try to take the copy: Allocated → Creating (one winner), its size claimed."""
    template = session.get_one(templates.VmTemplate, ref.template_id)
    pool = session.get_one(models.StoragePool, ref.pool_id)
    source = _source(session, template, pool.data_center_id)
    size = int(template.size or 0)
    try:
        gate.transition(session, ref, Event.CreateOnlyRequested, values={"template_size": size})
    except state_errors.StateConflict:
        return None
    if not claims.claim_on(session, pool, size):
        raise errors.ResourceUnavailable(
            f"Insufficient allocated capacity on storage pool {pool.name} for template "
            f"{template.uuid} ({size} bytes)"
        )
    dest = protocol.TemplateObjectTO(
        uuid=template.uuid,
        id=template.id,
        name=template.unique_name or template.name,
        format=protocol.ImageFormat(template.format.upper()),
        image_data_store=pool_targets.store_of(pool),
        size=template.size,
        account_id=template.account_id,
        hypervisor_type=template.hypervisor_type,
    )
    command = protocol.CopyCommand(src=source, dest=dest)
    target = pool_targets.target_for(session, pool)
    return _Copy(ref.id, pool.id, size, target, command, dest)


def _source(
    session: Session, template: templates.VmTemplate, zone_id: int
) -> protocol.TemplateObjectTO:
    """The template on an image store of the pool's zone (or a region-wide one), Ready."""
    store_ref = templates.TemplateStoreRef
    store = models.ImageStore
    row = session.execute(
        sa.select(store_ref, store)
        .join(store, store.id == store_ref.store_id)
        .where(
            store_ref.template_id == template.id,
            store_ref.state == State.Ready.value,
            store_ref.destroyed.is_(False),
            store.removed.is_(None),
            sa.or_(store.data_center_id == zone_id, store.data_center_id.is_(None)),
        )
        # An NFS copy first (a mounted read), else an S3 one (the agent reads the object).
        .order_by(sa.func.lower(store.protocol) != "nfs", store_ref.id)
        .limit(1)
    ).first()
    if row is None:
        raise errors.ResourceUnavailable(
            f"Template {template.uuid} is not ready on any image store of zone {zone_id}"
        )
    ref, image_store = row
    return protocol.TemplateObjectTO(
        uuid=template.uuid,
        id=template.id,
        name=template.unique_name or template.name,
        format=protocol.ImageFormat(template.format.upper()),
        image_data_store=image_stores.transfer_object(session, image_store),
        path=ref.install_path,
        size=ref.size or template.size,
        physical_size=ref.physical_size,
        account_id=template.account_id,
        hypervisor_type=template.hypervisor_type,
    )


def _run(sessions: sessionmaker[Session], fleet: Any, job: context.Job, copy: _Copy) -> str:
    """The winner's copy, with no transaction open, then Ready (or back to Allocated)."""
    try:
        answer = pool_targets.exchange(
            fleet, copy.target, copy.command, protocol.CopyCmdAnswer, context.AgentProgress(job)
        )
    except transport_errors.TransportError as exc:
        _failed(sessions, fleet, copy, str(exc))
        raise errors.ResourceUnavailable(
            f"Failed to copy template {copy.dest.uuid} to its pool: {exc}"
        ) from exc
    made = answer.new_data
    path = made.path or copy.dest.uuid
    with sessions() as session:
        ref = session.get_one(templates.TemplateSpoolRef, copy.ref_id)
        gate.transition(
            session,
            ref,
            Event.OperationSuccessed,
            values={
                "install_path": path,
                "local_path": path,
                "download_state": "DOWNLOADED",
                "download_pct": 100,
                "last_updated": base.utcnow(),
            },
        )
        session.commit()
    return path


def _failed(sessions: sessionmaker[Session], fleet: Any, copy: _Copy, reason: str) -> None:
    leftover = protocol.DeleteCommand(data=dataclasses.replace(copy.dest, path=copy.dest.uuid))
    with contextlib.suppress(transport_errors.TransportError):
        pool_targets.exchange(fleet, copy.target, leftover, messages.Answer)
    with sessions() as session:
        ref = session.get_one(templates.TemplateSpoolRef, copy.ref_id)
        gate.transition(
            session,
            ref,
            Event.OperationFailed,
            values={"error_str": reason[:255], "download_state": "NOT_DOWNLOADED"},
        )
        claims.release(session, copy.pool_id, copy.size)
        session.commit()
