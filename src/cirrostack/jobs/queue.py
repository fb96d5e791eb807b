"""The job queue's SQL, all of it in one place.

A job row moves through these conditions (``job_status`` is CloudStack's ordinal)::

    pending   job_status=0, job_executing_msid IS NULL    (submitted, released or expired)
    running   job_status=0, job_executing_msid=<owner>, attempt=N, lease_expires in the future
    finished  job_status=1 (succeeded), 2 (failed) or 3 (cancelled); removed = completion time

Rules enforced in SQL:

- a job is submitted in the caller's transaction, so it exists iff the state change it owns
  was committed;
- a job may be claimed only when no earlier unfinished job shares one of its queue keys (a
  job may lock several: attach locks the volume and the VM; ``async_job_queue_key``), and no
  running job holds one: jobs on one resource run one at a time, in submission order; jobs on
  different resources in parallel. A claim writes each key into the unique ``running_key``, so
  two claimers that could not see each other (a job committed late, out of id order) cannot
  both run jobs sharing a key: the second one's write fails on the unique index and it skips
  the job;
- claiming locks candidate rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL, MariaDB), so
  servers never wait for each other; SQLite has one writer at a time (BEGIN IMMEDIATE);
- a claim increments ``attempt``; every later write of that run is fenced by
  (id, attempt, owner, still running), so a worker that lost its lease cannot finish the job
  or, through ``fence()`` in the state gate, change a resource.
"""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningUpdate

from cirrostack.db.models import jobs as models
from cirrostack.jobs import clock, keys
from cirrostack.states import holds

Job = models.AsyncJob
_TABLE = cast(sa.Table, Job.__table__)

#: ``job_pending_signals`` bit asking a running job to stop at its next checkpoint.
CANCEL_SIGNAL = 1


class Status(enum.IntEnum):
    """``async_job.job_status``."""

    IN_PROGRESS = 0
    SUCCEEDED = 1
    FAILED = 2
    CANCELLED = 3


class OnLost(enum.StrEnum):
    """A command's retry policy for a run that lost its lease (its worker died or hung):
    run it again from the start, or recover its rows by the reaper's rules and fail it (a
    half-done copy is not rerun blindly; a probe in the rules may roll it forward)."""

    RERUN = "rerun"
    RECOVER = "recover"


class LeaseLost(Exception):
    """The run no longer owns its job (the lease expired and the job moved on); nothing of
    the run's current transaction may be committed."""


@dataclass(frozen=True)
class Claim:
    """One run of a job: the fencing token every write of the run carries."""

    job_id: int
    attempt: int
    owner: int
    #: The job may hold queue keys (False only when the claim saw it has none: its finish then
    #: has no keys to free).
    keyed: bool = True
    #: Whether the job may hold rows (``states.holds.Record``): its finish then deletes the
    #: job's records. A claim made without one counts as holding rows.
    record: holds.Record = field(default_factory=holds.Record, compare=False, repr=False)


@dataclass(frozen=True)
class Submission:
    """What a new job is: who asked, which command with which parameters, on what resource."""

    user_id: int
    account_id: int
    command: str
    parameters: Any
    instance_type: str | None = None
    instance_id: int | None = None
    queue_key: str | None = None
    #: Further keys the job locks (with ``queue_key``, which is the first).
    more_keys: tuple[str, ...] = ()
    on_lost: OnLost = OnLost.RERUN

    def keys(self) -> tuple[str, ...]:
        first = (self.queue_key,) if self.queue_key else ()
        return tuple(dict.fromkeys(first + self.more_keys))


key = keys.key
Key = keys.Key


def submit(session: Session, submission: Submission) -> Job:
    """Insert a pending job in the caller's transaction (not committed here)."""
    names = submission.keys()
    job = Job(
        user_id=submission.user_id,
        account_id=submission.account_id,
        job_cmd=submission.command,
        job_cmd_info=json.dumps(submission.parameters, default=str),
        instance_type=submission.instance_type,
        instance_id=submission.instance_id,
        queue_key=names[0] if names else None,
        on_lost=str(submission.on_lost),
        job_status=int(Status.IN_PROGRESS),
        attempt=0,
        last_updated=clock.database_now(session),
    )
    session.add(job)
    session.flush()
    keys.add(session, job.id, names)
    return job


def claim(
    session: Session,
    owner: int,
    lease: datetime.timedelta,
    *,
    limit: int = 1,
    job_id: int | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` runnable jobs (or exactly ``job_id`` if runnable) for ``owner``.

    Commit the session to make the claims visible; until then they hold row locks. One
    statement where the backend can update with RETURNING (PostgreSQL, SQLite), two on MariaDB
    (lock the candidates, then update them); prebuilt Core statements, no ORM objects loaded.
    """
    values = {
        "c_owner": owner,
        "c_lease": clock.seconds_of(lease),
        "c_limit": limit,
        "c_job": job_id,
    }
    one = job_id is not None
    taken: list[tuple[int, int, str | None]]
    held: dict[int, holds.Record] = {}
    if session.get_bind().dialect.update_returning:
        returned = session.execute(_CLAIM_RETURNING[one], values)
        taken = []
        for job, attempt, first, recorded in returned:
            taken.append((job, attempt, first))
            held[job] = holds.Record(held=bool(recorded))
    else:
        locked = [tuple(row) for row in session.execute(_CANDIDATES[one], values)]
        if not locked:
            return []
        session.execute(_CLAIM_IDS, {**values, "c_ids": [job for job, _, _ in locked]})
        # locked: nobody moved them
        taken = [(job, attempt + 1, first) for job, attempt, first in locked]
    claims = []
    for job, attempt, first in sorted(taken):
        if first is None or keys.take(session, job):
            record = held.get(job, holds.Record())
            holds.track(job, record)
            claims.append(Claim(job, attempt, owner, keyed=first is not None, record=record))
        else:  # a running job another claimer has not committed yet holds one of its keys
            session.execute(_UNCLAIM, {"u_job": job, "u_owner": owner, "u_attempt": attempt})
    return claims


def _claim_statements() -> tuple[
    dict[bool, sa.Select[Any]], sa.Update, dict[bool, ReturningUpdate[Any]]
]:
    """The claim's statements, built once: candidates (all, or one ``c_job``), the update.

    A job with queue keys is a candidate while no other unfinished job, earlier or running,
    shares one of them (``jobs.keys``); the claim then takes its keys (``keys.take``)."""
    table = _TABLE
    # The candidates read an alias, so that inside the UPDATE they stay a subquery of their own
    # (not correlated with the row being updated); ``blocked`` is correlated with ``pick``.
    pick = table.alias("pick")
    blocked = keys.blocked(pick.c.id)
    runnable = sa.and_(
        pick.c.job_status == int(Status.IN_PROGRESS),
        pick.c.job_executing_msid.is_(None),
        sa.or_(pick.c.queue_key.is_(None), ~blocked),
    )
    candidates = {
        one: sa.select(pick.c.id, pick.c.attempt, pick.c.queue_key)
        .where(runnable, *([pick.c.id == sa.bindparam("c_job")] if one else []))
        .order_by(pick.c.id)
        .limit(sa.bindparam("c_limit", type_=sa.Integer))
        .with_for_update(skip_locked=True)
        for one in (False, True)
    }
    lease = clock.utc_after(sa.bindparam("c_lease", type_=sa.Integer))
    taken = {
        "job_executing_msid": sa.bindparam("c_owner"),
        "attempt": table.c.attempt + 1,
        "lease_expires": lease,
        "last_updated": clock.utc_after(sa.literal(0, sa.Integer)),
        "last_activity": clock.utc_after(sa.literal(0, sa.Integer)),
    }
    by_ids = sa.update(table).where(table.c.id.in_(sa.bindparam("c_ids", expanding=True)))
    returning = {
        one: sa.update(table)
        .where(table.c.id.in_(statement.with_only_columns(pick.c.id).scalar_subquery()))
        .values(taken)
        .returning(table.c.id, table.c.attempt, table.c.queue_key, holds.recorded(table.c.id))
        for one, statement in candidates.items()
    }
    return candidates, by_ids.values(taken), returning


_CANDIDATES, _CLAIM_IDS, _CLAIM_RETURNING = _claim_statements()

#: A claim handed back within its own transaction (its keys were taken): as if never claimed.
_UNCLAIM = (
    sa.update(_TABLE)
    .where(
        _TABLE.c.id == sa.bindparam("u_job"),
        _TABLE.c.job_executing_msid == sa.bindparam("u_owner"),
        _TABLE.c.attempt == sa.bindparam("u_attempt"),
    )
    .values(job_executing_msid=None, attempt=_TABLE.c.attempt - 1, lease_expires=None)
)


def running(claim_: Claim) -> sa.ColumnElement[bool]:
    """SQL condition: the job is still this run's (the fencing token holds)."""
    return sa.and_(
        Job.id == claim_.job_id,
        Job.attempt == claim_.attempt,
        Job.job_executing_msid == claim_.owner,
        Job.job_status == int(Status.IN_PROGRESS),
    )


def fence(claim_: Claim) -> sa.ColumnElement[bool]:
    """The condition to AND into any resource write of this run (the gate's ``fence``)."""
    return sa.select(Job.id).where(running(claim_)).exists()


def renew(
    session: Session,
    claim_: Claim,
    lease: datetime.timedelta,
    *,
    active_within: datetime.timedelta | None = None,
    activity: bool = False,
) -> bool:
    """Extend the run's lease; False when the run has lost the job, or (``active_within``
    given: the heartbeat) when it showed no activity for that long. ``activity`` records
    activity now (a checkpoint, progress)."""
    now = clock.database_now(session)
    condition = running(claim_)
    if active_within is not None:
        condition = sa.and_(condition, Job.last_activity >= now - active_within)
    values: dict[str, Any] = {"lease_expires": now + lease, "last_updated": now}
    if activity:
        values["last_activity"] = now
    result = session.execute(sa.update(Job).where(condition).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_activity(session: Session, claim_: Claim) -> None:
    """The run showed activity now (its steps, agent progress); raises LeaseLost."""
    _fenced_update(session, claim_, last_activity=clock.database_now(session))


def report_progress(session: Session, claim_: Claim, percent: int) -> None:
    """Record how far the run is (``jobprocstatus``, 0..100), which is activity; raises
    LeaseLost."""
    _fenced_update(
        session,
        claim_,
        job_process_status=max(0, min(100, percent)),
        last_activity=clock.database_now(session),
    )


def finish(session: Session, claim_: Claim, status: Status, result_code: int, result: Any) -> None:
    """Record the run's outcome in the caller's transaction; raises LeaseLost if it is no
    longer this run's job, in which case the caller must roll back everything."""
    outcome = session.execute(
        _FINISH,
        {
            "f_job": claim_.job_id,
            "f_attempt": claim_.attempt,
            "f_owner": claim_.owner,
            "f_status": int(status),
            "f_code": result_code,
            "f_result": json.dumps(result, default=str),
        },
    )
    if not outcome.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {claim_.job_id} attempt {claim_.attempt} is no longer this run's")
    if claim_.record.held:
        holds.release_job(session, [claim_.job_id])
    if claim_.keyed:
        keys.free(session, [claim_.job_id])


def _finish_statement() -> sa.Update:
    """``finish``'s fenced UPDATE, built once (the fence of ``running``, as bound values)."""
    table = _TABLE
    now = clock.utc_after(sa.literal(0, sa.Integer))
    return (
        sa.update(table)
        .where(
            table.c.id == sa.bindparam("f_job"),
            table.c.attempt == sa.bindparam("f_attempt"),
            table.c.job_executing_msid == sa.bindparam("f_owner"),
            table.c.job_status == int(Status.IN_PROGRESS),
        )
        .values(
            job_status=sa.bindparam("f_status"),
            job_result_code=sa.bindparam("f_code"),
            job_result=sa.bindparam("f_result"),
            job_complete_msid=sa.bindparam("f_owner"),
            lease_expires=None,
            last_updated=now,
            removed=now,
        )
    )


_FINISH = _finish_statement()


def _fenced_update(session: Session, claim_: Claim, **values: Any) -> None:
    result = session.execute(sa.update(Job).where(running(claim_)).values(**values))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {claim_.job_id} attempt {claim_.attempt} is no longer this run's")


def cancel_requested(session: Session, claim_: Claim) -> bool:
    """Whether someone asked this run to stop."""
    signals = session.execute(sa.select(Job.job_pending_signals).where(running(claim_))).scalar()
    return bool((signals or 0) & CANCEL_SIGNAL)


def release(session: Session, owner: int) -> int:
    """Hand ``owner``'s running jobs back to the queue (a clean shutdown); returns how many."""
    keys.free(
        session,
        sa.select(Job.id).where(
            Job.job_executing_msid == owner, Job.job_status == int(Status.IN_PROGRESS)
        ),
    )
    result = session.execute(
        sa.update(Job)
        .where(Job.job_executing_msid == owner, Job.job_status == int(Status.IN_PROGRESS))
        .values(job_executing_msid=None, lease_expires=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Expired:
    """What ``expire`` did: jobs given back to the queue, and jobs failed for good."""

    requeued: Sequence[int]
    failed: Sequence[int]


def expire(session: Session, max_attempts: int) -> Expired:
    """Take back jobs whose lease ran out: requeue them, or fail them after ``max_attempts``."""
    now = clock.database_now(session)
    dead = list(
        session.execute(
            sa.select(Job.id, Job.attempt, Job.on_lost)
            .where(
                Job.job_status == int(Status.IN_PROGRESS),
                Job.job_executing_msid.is_not(None),
                Job.lease_expires < now,
            )
            .with_for_update(skip_locked=True)
        ).all()
    )
    retry = [job_id for job_id, attempt, on_lost in dead if _rerun(attempt, on_lost, max_attempts)]
    give_up = [job_id for job_id, _attempt, _on_lost in dead if job_id not in retry]
    if dead:
        keys.free(session, [job_id for job_id, _attempt, _on_lost in dead])
    if retry:
        session.execute(
            sa.update(Job)
            .where(Job.id.in_(retry))
            .values(job_executing_msid=None, lease_expires=None, last_updated=now)
        )
    if give_up:
        text = (
            "the job's worker stopped answering; giving up (a command is run at most "
            f"{max_attempts} time(s), and one that must be recovered is not run again "
            "blindly): its resources are recovered"
        )
        _fail_now(session, give_up, text, now)
    return Expired(retry, give_up)


def _rerun(attempt: int, on_lost: str | None, max_attempts: int) -> bool:
    return attempt < max_attempts and on_lost != OnLost.RECOVER


def _fail_now(session: Session, job_ids: Sequence[int], text: str, now: datetime.datetime) -> None:
    """Fail unfinished jobs at once (no run can finish them after): their holds and keys
    go, so the reaper's next pass recovers their rows."""
    session.execute(
        sa.update(Job)
        .where(Job.id.in_(list(job_ids)), Job.job_status == int(Status.IN_PROGRESS))
        .values(
            job_status=int(Status.FAILED),
            job_result_code=530,
            job_result=json.dumps({"errorcode": 530, "errortext": text}),
            lease_expires=None,
            last_updated=now,
            removed=now,
        )
    )
    holds.release_job(session, job_ids)
    keys.free(session, job_ids)


def fail_silent(session: Session, silent_after: datetime.timedelta) -> list[int]:
    """Fail running jobs that showed no activity for ``silent_after``
    (``job.cancel.threshold.minutes``); their rows are then recovered by the reaper's rules."""
    now = clock.database_now(session)
    silent = list(
        session.execute(
            sa.select(Job.id)
            .where(
                Job.job_status == int(Status.IN_PROGRESS),
                Job.job_executing_msid.is_not(None),
                Job.last_activity < now - silent_after,
            )
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if silent:
        minutes = int(silent_after.total_seconds() // 60)
        text = (
            f"the job showed no activity (no step, checkpoint or agent progress) for {minutes} "
            "minute(s), the limit job.cancel.threshold.minutes sets: it was failed as stuck "
            "and its resources are recovered"
        )
        _fail_now(session, silent, text, now)
    return silent


def cancel(session: Session, job: Job, by: str) -> Status:
    """Cancel a pending job now, or ask a running one to stop; returns its status after.

    Decided in SQL alone (never from ``job``'s loaded attributes, which may be stale): the
    conditional updates below cannot both apply, and a finished job is left as it is.
    """
    now = clock.database_now(session)
    text = f"Job cancelled by {by} before it started"
    pending = session.execute(
        sa.update(Job)
        .where(
            Job.id == job.id,
            Job.job_status == int(Status.IN_PROGRESS),
            Job.job_executing_msid.is_(None),
        )
        .values(
            job_status=int(Status.CANCELLED),
            job_result_code=530,
            job_result=json.dumps({"errorcode": 530, "errortext": text}),
            last_updated=now,
            removed=now,
        )
    )
    if pending.rowcount:  # type: ignore[attr-defined]
        holds.release_job(session, [job.id])
    else:
        session.execute(
            sa.update(Job)
            .where(
                Job.id == job.id,
                Job.job_status == int(Status.IN_PROGRESS),
                Job.job_executing_msid.is_not(None),
            )
            .values(job_pending_signals=Job.job_pending_signals.op("|")(CANCEL_SIGNAL))
        )
    session.expire(job)
    return Status(session.execute(sa.select(Job.job_status).where(Job.id == job.id)).scalar_one())


def live_instances(session: Session, instance_type: str) -> set[int]:
    """Ids of ``instance_type`` resources that have an unfinished job (pending or running)."""
    rows = session.execute(
        sa.select(Job.instance_id).where(
            Job.instance_type == instance_type,
            Job.job_status == int(Status.IN_PROGRESS),
            Job.instance_id.is_not(None),
        )
    ).scalars()
    return {int(row) for row in rows if row is not None}
