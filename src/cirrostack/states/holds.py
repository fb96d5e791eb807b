"""Which job holds which row: ``async_job_resource``, written by the gate for the job.

A job may move several rows into transitional states (a template copy, its volume, the VM). The
gate records each such row for the job acting in the session, in the same transaction as the
state change, and deletes the record when the row leaves its transitional state (on that same
state column); the job engine deletes a job's records when the job finishes. The reaper's
ownership test reads them, so a live job's rows are never "recovered" under it.

Who acts is a property of the session, set by whoever opened it for a job:

- the job runner calls ``act_for(session, job_id)`` on the session it runs a job in;
- an async command's submit calls ``collect(session)`` before the command's ``prepare`` moves
  the row (the job does not exist yet), then ``bind(session, job_id)`` once the job row is
  inserted, still in the request's transaction.

A row is held by one job at a time (unique resource type and id, whichever state column):
moving a row another live job holds raises HeldByAnotherJob, so the caller's transaction
rolls back. Resource type names are the bindings' ``resource_type``.

Whether a finish must delete records: a claim reads whether its job held any row then
(``recorded``; rows bound at submit, or held by an earlier run) and keeps the answer in a
``Record``, registered for the job in this process (``track``); every hold recorded after,
in whichever session acts for the job, marks it (``_hold``). A run that held nothing skips
the DELETE. Nothing else can add records later: a run that lost its lease commits nothing (its
checkpoint and finish are fenced), and only the claim's process acts for the job. A claim
built without a record (MariaDB's claim, hand-made claims) counts as holding rows.
"""

from __future__ import annotations

import enum
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import jobs as job_models
from cirrostack.states import bindings, errors, recovery

Held = job_models.AsyncJobResource
_KEY = "cirrostack.states.holds"
#: ``async_job.job_status`` of an unfinished job (jobs.queue.Status.IN_PROGRESS).
_IN_PROGRESS = 0


@dataclass(eq=False)
class Record:
    """Whether one run's job may hold rows (True unless the claim saw none and none was
    recorded since): its finish deletes the job's records only then."""

    held: bool = True


#: The record of the latest claim of each job in this process (gone with the claim).
_RECORDS: weakref.WeakValueDictionary[int, Record] = weakref.WeakValueDictionary()
_RECORDS_LOCK = threading.Lock()


def track(job_id: int, record: Record) -> None:
    """``record`` is the current run's (a claim taken in this process): holds recorded for
    ``job_id`` from now on set its ``held``."""
    with _RECORDS_LOCK:
        _RECORDS[job_id] = record


def _mark(job_id: int) -> None:
    with _RECORDS_LOCK:
        record = _RECORDS.get(job_id)
    if record is not None:
        record.held = True


def recorded(job_id: sa.ColumnElement[Any]) -> sa.Exists:
    """SQL: the job whose id is the column ``job_id`` holds a row (read by the claim)."""
    return sa.exists().where(Held.job_id == job_id)


@dataclass
class _Actor:
    """The job acting in a session, or (job_id None) rows waiting for the job to exist."""

    job_id: int | None = None
    pending: list[tuple[str, int, str]] = field(default_factory=list)


def act_for(session: Session, job_id: int) -> None:
    """From now on, rows this session moves into transitional states are held by ``job_id``."""
    session.info[_KEY] = _Actor(job_id)


def collect(session: Session) -> None:
    """Remember the rows moved from now on, for the job ``bind`` names (an async submit)."""
    session.info[_KEY] = _Actor()


def bind(session: Session, job_id: int) -> None:
    """Record the rows collected since ``collect`` as held by the new job ``job_id``."""
    actor = session.info.get(_KEY)
    pending = actor.pending if isinstance(actor, _Actor) else []
    session.info[_KEY] = _Actor(job_id)
    for resource_type, resource_id, column in pending:
        _hold(session, job_id, resource_type, resource_id, column, label=resource_type)


def stop(session: Session) -> None:
    """The session acts for no job any more."""
    session.info.pop(_KEY, None)


def moved(
    session: Session,
    binding: bindings.Binding[Any, Any],
    resource: Any,
    old: enum.StrEnum,
    new: enum.StrEnum,
) -> None:
    """Called by the gate after it moved ``resource`` (same transaction): hold or release.

    Machines no job owns (host status follows the agent connection: ``recovery.UNOWNED``)
    are neither held nor released, so they cannot release a job's hold on the same row.
    """
    if binding in recovery.UNOWNED:
        return
    entering = new in binding.machine.transitional
    leaving = old in binding.machine.transitional and not entering
    if leaving:
        session.execute(
            sa.delete(Held).where(
                Held.resource_type == binding.resource_type,
                Held.resource_id == resource.id,
                Held.state_column == binding.state,
            )
        )
        return
    if not entering:
        return
    actor = session.info.get(_KEY)
    if not isinstance(actor, _Actor):
        return
    if actor.job_id is None:
        actor.pending.append((binding.resource_type, resource.id, binding.state))
        return
    _hold(
        session,
        actor.job_id,
        binding.resource_type,
        resource.id,
        binding.state,
        label=binding.label(resource),
    )


def _hold(
    session: Session, job_id: int, resource_type: str, resource_id: int, column: str, *, label: str
) -> None:
    """Insert the hold, or take it over from a finished job; refuse one a live job has."""
    _mark(job_id)  # before the write: a record that may exist counts as one
    found = session.execute(
        sa.select(Held.id, Held.job_id, job_models.AsyncJob.job_status)
        .join(job_models.AsyncJob, job_models.AsyncJob.id == Held.job_id)
        .where(Held.resource_type == resource_type, Held.resource_id == resource_id)
    ).first()
    if found is None:
        session.add(
            Held(
                job_id=job_id,
                resource_type=resource_type,
                resource_id=resource_id,
                state_column=column,
            )
        )
        session.flush()
        return
    held_id, holder, status = found
    if holder != job_id and status == _IN_PROGRESS:
        raise errors.HeldByAnotherJob(label, holder)
    session.execute(
        sa.update(Held).where(Held.id == held_id).values(job_id=job_id, state_column=column)
    )


def held_by(session: Session, job_id: int) -> Sequence[tuple[str, int]]:
    """(resource type, id) of every row ``job_id`` holds, in the order it took them."""
    rows = session.execute(
        sa.select(Held.resource_type, Held.resource_id)
        .where(Held.job_id == job_id)
        .order_by(Held.id)
    ).all()
    return [(str(kind), int(ident)) for kind, ident in rows]


def release_job(session: Session, job_ids: Sequence[int]) -> None:
    """Forget every row the finished jobs ``job_ids`` held (the job engine, at finish: one
    prebuilt statement, as it runs for every job)."""
    if job_ids:
        session.flush()  # records still pending in the session go first
        session.connection().execute(_RELEASE, {"r_jobs": list(job_ids)})


_RELEASE = sa.delete(Held).where(Held.job_id.in_(sa.bindparam("r_jobs", expanding=True)))


def live_hold(model_id: sa.ColumnElement[Any], resource_type: str) -> sa.ColumnElement[bool]:
    """SQL: an unfinished job holds the row ``model_id`` of ``resource_type`` (the reaper)."""
    return (
        sa.select(Held.id)
        .join(job_models.AsyncJob, job_models.AsyncJob.id == Held.job_id)
        .where(
            Held.resource_type == resource_type,
            Held.resource_id == model_id,
            job_models.AsyncJob.job_status == _IN_PROGRESS,
        )
        .exists()
    )
