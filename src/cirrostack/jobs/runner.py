"""Runs one claimed job: the claim, run, finish and fail sequence, whatever the job does.

The worker pool (``jobs.worker``) calls a ``Runner`` with each claim; without a pool (tests,
tools, a dispatcher without workers) ``Inline`` claims and runs submitted jobs in the caller's
thread through the same path. What a job does is a ``Body`` the composition root hands in
(``cirrostack.api.jobs.CommandBody`` runs API commands); the runner knows nothing about HTTP.

In the job's session, which acts for the job (``states.holds``: every row the gate moves into
a transitional state is held by it): the body runs with a ``JobContext``; its outcome and the
job's completion commit together, fenced by the claim, so a run that lost its lease changes
nothing. A lost race (deadlock, serialisation failure) runs the body again, unless a
checkpoint already committed part of the work. A failed run's rows (every one it holds, and
the resource it was submitted for) are recovered at once by the reaper's rules, in the same
transaction as the failure.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import transactions
from cirrostack.jobs import queue, reaper
from cirrostack.jobs.context import JobContext
from cirrostack.states import holds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """How a run failed, as the job's result shows it (``errorcode``, ``errortext``)."""

    code: int
    text: str


class Body(Protocol):
    """What a job does (for API commands: ``api.jobs.CommandBody``)."""

    def run(self, session: Session, claim: queue.Claim, job: JobContext) -> Any:
        """Do the job's work in ``session`` (never commit it except through
        ``job.checkpoint()``); the job's result, stored as JSON."""
        ...

    def failure_of(self, exc: Exception) -> Failure:
        """What an exception the body raised means for the job's result."""
        ...

    def failed(self, session: Session, claim: queue.Claim, failure: Failure) -> None:
        """Record the failure (an event row), in the transaction that fails the job."""
        ...


class Runner:
    """Runs one claimed job (the worker pool's ``execute``)."""

    def __init__(self, sessions: sessionmaker[Session], body: Body) -> None:
        self.sessions = sessions
        self.body = body

    def __call__(self, claim: queue.Claim) -> None:
        failure = self._run(claim)
        if failure is not None:
            self._fail(claim, failure)

    def _run(self, claim: queue.Claim) -> Failure | None:
        attempt = 1
        while True:
            contexts: list[JobContext] = []
            try:
                return self._once(claim, contexts)
            except Exception as exc:
                checkpointed = any(context.checkpointed for context in contexts)
                again = transactions.conflict(exc) and not checkpointed
                if not again or attempt >= transactions.ATTEMPTS:
                    return self.body.failure_of(exc)
            transactions.pause(attempt)
            attempt += 1

    def _once(self, claim: queue.Claim, contexts: list[JobContext]) -> Failure | None:
        with self.sessions() as session:
            holds.act_for(session, claim.job_id)
            context = JobContext(claim, self.sessions, session)
            contexts.append(context)
            try:
                result = self.body.run(session, claim, context)
                queue.finish(session, claim, queue.Status.SUCCEEDED, 0, result)
                session.commit()
                return None
            except queue.LeaseLost:
                session.rollback()
                log.warning(
                    "job %d attempt %d lost its lease; its work was undone",
                    claim.job_id,
                    claim.attempt,
                )
                return None
            except Exception:
                session.rollback()
                raise

    def _fail(self, claim: queue.Claim, failure: Failure) -> None:
        """Finish the job as failed and recover its rows (run again after a lost race)."""

        def work(session: Session) -> None:
            resources = owned(session, claim.job_id)
            body = {"errorcode": failure.code, "errortext": failure.text}
            queue.finish(session, claim, queue.Status.FAILED, failure.code, body)
            reaper.recover_held(session, resources)
            self.body.failed(session, claim, failure)

        with contextlib.suppress(queue.LeaseLost):  # another run owns the job now
            transactions.run(self.sessions, work, name=f"job {claim.job_id}")


def owned(session: Session, job_id: int) -> Sequence[tuple[str, int]]:
    """Every row the job owns: those it holds, and the resource it was submitted for."""
    job = session.get_one(queue.Job, job_id)
    resources = list(holds.held_by(session, job_id))
    if job.instance_type and job.instance_id:
        resources.append((job.instance_type, job.instance_id))
    return resources


class Inline:
    """Runs submitted jobs at once in the submitting thread (no worker pool)."""

    def __init__(self, sessions: sessionmaker[Session], runner: Runner) -> None:
        self.sessions = sessions
        self.runner = runner
        self.owner = secrets.randbits(47) + 1

    def submitted(self) -> None:
        """Run every runnable job, one after the other, until none is left."""
        while True:
            with self.sessions() as session:
                claims = queue.claim(session, self.owner, _INLINE_LEASE, limit=1)
                session.commit()
            if not claims:
                return
            self.runner(claims[0])


_INLINE_LEASE = datetime.timedelta(minutes=30)
