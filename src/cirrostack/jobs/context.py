"""What a job's body may use while it runs: the fence, checkpoints, activity, progress, cancel.

Made by the job runner (``jobs.runner``) for each run, around the session the run writes in,
and handed to the body (for API commands, as ``Call.job``). Services take it where they do slow
work: they ``checkpoint()`` before talking to an agent, report ``activity()`` or ``progress()``
while it works (the agent transport calls them from command progress), then write again under
``fence()``.

Liveness is shown, never assumed: the worker's heartbeat renews a run's lease only while the
run showed activity within ``job.cancel.threshold.minutes`` (its claim, each checkpoint, each
``activity()``/``progress()``); a run silent past it is failed as stuck by the reaper.
"""

from __future__ import annotations

import time
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.jobs import lease, queue
from cirrostack.protocol import messages

#: ``activity()`` writes at most this often (seconds); it is called for every agent progress
#: message, and the silence limit is counted in minutes.
ACTIVITY_EVERY = 5.0


class Job(Protocol):
    """The job seam services and handlers see (``JobContext`` is the one implementation)."""

    def checkpoint(self) -> None: ...

    def fence(self) -> sa.ColumnElement[bool]: ...

    def activity(self) -> None: ...

    def progress(self, percent: int) -> None: ...

    def cancelled(self) -> bool: ...


class JobContext:
    """One run's view of its job (implements ``Job``).

    A body must not hold a transaction while it waits on an agent or a disk: on SQLite an
    open transaction holds the database's only write lock, elsewhere it holds row locks. It
    calls ``checkpoint()`` before slow work and writes again afterwards with ``fence()``.
    """

    def __init__(
        self, claim: queue.Claim, sessions: sessionmaker[Session], session: Session
    ) -> None:
        self.claim = claim
        self._sessions = sessions
        self._session = session
        self._last_activity: float | None = None
        #: Whether a checkpoint committed part of this run (it cannot simply run again).
        self.checkpointed = False

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The factory of the job's short transactions outside its own (for work that must
        commit on its own while the body waits, as a template's copy on a pool does)."""
        return self._sessions

    def checkpoint(self) -> None:
        """Commit what the run wrote so far and end its transaction (no locks held after).

        Renews the lease by ``job.lease.seconds`` (read now) and records activity. Every
        object of the session is expired, so what the body reads after is what the database
        holds then, not what it loaded before the slow work. Raises LeaseLost, committing
        nothing, if the run no longer owns its job.
        """
        configured = lease.configured(self._session)
        if not queue.renew(self._session, self.claim, configured, activity=True):
            raise queue.LeaseLost(f"job {self.claim.job_id} is no longer this run's")
        self._session.commit()
        self._session.expire_all()
        self.checkpointed = True
        self._last_activity = time.monotonic()

    def fence(self) -> sa.ColumnElement[bool]:
        """The condition for the gate's ``fence``: writes only while this run owns the job."""
        return queue.fence(self.claim)

    def activity(self) -> None:
        """The run is alive and working (an agent reported progress): keeps its lease renewed.

        Written in its own short transaction, at most every ``ACTIVITY_EVERY`` seconds; call it
        with no transaction of the run open (as during slow work). Raises LeaseLost.
        """
        now = time.monotonic()
        if self._last_activity is not None and now - self._last_activity < ACTIVITY_EVERY:
            return
        with self._sessions() as session:
            queue.record_activity(session, self.claim)
            session.commit()
        self._last_activity = now

    def progress(self, percent: int) -> None:
        """Publish progress (``jobprocstatus``) at once, in its own short transaction; it is
        activity too."""
        with self._sessions() as session:
            queue.report_progress(session, self.claim, percent)
            session.commit()
        self._last_activity = time.monotonic()

    def cancelled(self) -> bool:
        """Whether cancelAsyncJob asked this run to stop (check at safe points)."""
        with self._sessions() as session:
            return queue.cancel_requested(session, self.claim)


class AgentProgress:
    """An agent command's progress callback (``transport.OnProgress``) for a job whose work is
    that command: each report is activity, and one that moves the percentage (``done`` of
    ``total``) is published as ``jobprocstatus``. Called in the sending thread, with no
    transaction of the run open."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._percent = 0

    def __call__(self, report: messages.Progress) -> None:
        percent = report.done * 100 // report.total if report.total > 0 else 0
        if percent > self._percent:
            self._percent = percent
            self._job.progress(percent)
        else:
            self._job.activity()
