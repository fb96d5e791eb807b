"""The reaper: no job is stranded by a dead worker, and no resource by a dead job.

Every ``interval`` seconds, on every management server (the work is idempotent and the rows it
touches are claimed with SKIP LOCKED or compare-and-swap, so servers do not collide):

0. running jobs that showed no activity for ``job.cancel.threshold.minutes`` are failed as
   stuck (their worker may be alive, waiting on a hung agent: liveness is shown, not assumed);
1. jobs whose lease ran out are handed back to the queue, or failed after ``max_attempts`` or
   at once when their command must be recovered rather than rerun (``queue.OnLost``);
2. every resource in a transitional state with no unfinished job for it is recovered by the
   rule of ``states.recovery`` (roll back, or roll forward after a probe), through the gate.

A job owns the resource it was submitted for and every row it holds (``async_job_resource``,
written by the gate when it moved the row into a transitional state for the job). The "no
unfinished job" test and the state test are one SQL statement, so a job submitted
between two reads cannot make a live resource look stranded.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import outage
from cirrostack.jobs import queue
from cirrostack.states import errors as state_errors
from cirrostack.states import gate, holds, recovery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    """What one pass did."""

    requeued: Sequence[int]
    failed: Sequence[int]
    recovered: Sequence[str]


def stranded(session: Session, rules: recovery.Recovery) -> Sequence[Any]:
    """Resources of ``rules.binding`` in a recoverable state that no unfinished job owns: none
    acts on it (``instance_type``/``instance_id``) and none holds it (``states.holds``)."""
    binding = rules.binding
    model = binding.model
    owned = (
        sa.select(queue.Job.id)
        .where(
            queue.Job.instance_type == binding.resource_type,
            queue.Job.instance_id == model.id,
            queue.Job.job_status == int(queue.Status.IN_PROGRESS),
        )
        .exists()
    )
    held = holds.live_hold(model.id, binding.resource_type)
    statement = sa.select(model).where(
        getattr(model, binding.state).in_(list(rules.rules)), ~owned, ~held
    )
    if hasattr(model, "removed"):
        statement = statement.where(model.removed.is_(None))
    return session.execute(statement).scalars().all()


def recover(session: Session, rules: recovery.Recovery, resource: Any) -> str | None:
    """Apply the rule to one resource; its label, or None when it moved on meanwhile."""
    binding = rules.binding
    state = binding.machine.parse(getattr(resource, binding.state))
    event = recovery.event_for(rules, session, resource, state)
    try:
        with session.begin_nested():
            gate.transition(
                session, resource, event, description="recovered: no job owns it any more"
            )
            undo = rules.undo.get(state)
            if undo is not None:
                undo(session, resource)
    except state_errors.StateError as exc:
        log.info("not recovering %s: %s", binding.label(resource), exc)
        return None
    return str(binding.label(resource))


def recover_held(session: Session, resources: Sequence[tuple[str, int]]) -> list[str]:
    """Recover each (resource type, id) right away (after their job failed), if left
    transitional; the job must be finished already, so that no hold of it protects them."""
    done: list[str] = []
    for resource_type, resource_id in dict.fromkeys(resources):
        done.extend(recover_instance(session, resource_type, resource_id))
    return done


def recover_instance(session: Session, resource_type: str, resource_id: int) -> list[str]:
    """Recover one resource right away (after its job failed), if it is left transitional."""
    done = []
    for rules in recovery.RECOVERIES:
        if rules.binding.resource_type != resource_type:
            continue
        for resource in stranded(session, rules):
            if resource.id == resource_id and (label := recover(session, rules, resource)):
                done.append(label)
    return done


def sweep(
    sessions: sessionmaker[Session],
    *,
    max_attempts: int,
    silence_of: Callable[[Session], datetime.timedelta] | None = None,
) -> Sweep:
    """One pass of the reaper (also run once at start-up). ``silence_of`` reads how long a job
    may be silent (``jobs.lease.silence``); without it no job is failed as stuck."""
    stuck: list[int] = []
    with sessions() as session:
        if silence_of is not None:
            stuck = queue.fail_silent(session, silence_of(session))
        expired = queue.expire(session, max_attempts)
        session.commit()
    recovered: list[str] = []
    with sessions() as session:
        for rules in recovery.RECOVERIES:
            for resource in stranded(session, rules):
                label = recover(session, rules, resource)
                if label is not None:
                    recovered.append(label)
        session.commit()
    failed = [*stuck, *expired.failed]
    if expired.requeued or failed or recovered:
        log.warning(
            "reaper: requeued jobs %s, failed jobs %s (stuck: %s), recovered %s",
            list(expired.requeued),
            failed,
            stuck,
            recovered,
        )
    return Sweep(expired.requeued, failed, recovered)


class Reaper:
    """The background service running ``sweep`` every ``interval`` seconds."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        interval: float,
        max_attempts: int,
        silence_of: Callable[[Session], datetime.timedelta] | None = None,
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.max_attempts = max_attempts
        self.silence_of = silence_of
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = outage.Watch(log, "job reaper")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="job-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            try:
                sweep(self.sessions, max_attempts=self.max_attempts, silence_of=self.silence_of)
                self._outage.succeeded(wrote=False)
            except Exception as exc:
                if self._outage.failed(exc) is None:
                    log.exception("reaper pass failed; retrying")
            if self._stopping.wait(self.interval):
                return
