"""A pool of worker threads per management server that claims and runs jobs.

One claimer thread takes runnable jobs from the queue while the pool has free slots (at once
when ``wake`` is called after a submit or a job ends, else every ``poll`` seconds). While the
pool's jobs are short (the last one ran under ``PoolSettings.short`` seconds) it also claims up
to ``ahead`` more (four per thread), which wait in the pool: a worker that finishes a job
starts the next waiting one in the same thread, and one claim transaction serves several jobs.
The waiting jobs are a few short jobs' worth of work (about 4 x ``short``); when jobs are long
nothing waits, so no claimed job sits here while another server is idle.

A heartbeat thread renews the lease of each claimed job that showed activity (its claim,
steps, checkpoints, agent progress: ``async_job.last_activity``) within the silence limit
(``PoolSettings.silence_of``, ``job.cancel.threshold.minutes``), every third of the lease: the
lease in force (read at each claim and beat when ``PoolSettings.lease_of`` is given, so a new
``job.lease.seconds`` applies without a restart), or the shortest lease a held claim was
granted if that is shorter (a lease made longer meanwhile must not let a claim's shorter one
lapse); a claim granted a lease shorter than the heartbeat's sleep wakes it. A silent job's
lease is not renewed: a hung command does not hold its resources forever; the reaper fails it.
A job whose lease cannot be renewed has been taken back by the reaper: its run is marked lost,
and its final write is refused by the fence anyway. ``stop`` stops claiming, waits up to
``grace`` for running jobs, and hands the rest back to the queue so another server (or the
next start) runs them without waiting for their leases to expire.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import outage
from cirrostack.jobs import queue

log = logging.getLogger(__name__)

Execute = Callable[[queue.Claim], None]


def new_owner_id() -> int:
    """A management-server id for job ownership (48 random bits, like CloudStack's msid)."""
    return secrets.randbits(47) + 1


#: Reads the lease a claim takes now, in the session given (``jobs.lease.configured``).
LeaseOf = Callable[[Session], datetime.timedelta]


@dataclass(frozen=True)
class PoolSettings:
    """``lease`` is the fixed lease, or the fallback when ``lease_of`` cannot be read;
    ``silence`` likewise for ``silence_of`` (how long a job may show no activity and still
    be renewed).

    ``ahead`` jobs at most are claimed beyond the free threads (None: four per thread), and
    only while the last job ran under ``short`` seconds.
    """

    size: int = 4
    lease: datetime.timedelta = datetime.timedelta(seconds=60)
    poll: float = 1.0
    grace: float = 10.0
    lease_of: LeaseOf | None = None
    ahead: int | None = None
    short: float = 0.05
    silence: datetime.timedelta = datetime.timedelta(minutes=60)
    silence_of: LeaseOf | None = None


class WorkerPool:
    """Claims jobs for ``owner`` and runs each with ``execute`` on one of ``size`` threads."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        execute: Execute,
        *,
        owner: int,
        settings: PoolSettings = PoolSettings(),
    ) -> None:
        self.sessions = sessions
        self.execute = execute
        self.owner = owner
        self.settings = settings
        #: Claims held (running or waiting): the heartbeat renews them all.
        self._active: dict[int, queue.Claim] = {}
        #: The lease each held claim was last granted (at its claim or renewal).
        self._granted: dict[int, datetime.timedelta] = {}
        #: How long the heartbeat sleeps now, and the event that wakes it early.
        self._beat_sleep = 0.0
        self._beat = threading.Event()
        #: Claimed jobs not started yet, and how many worker tasks are running them.
        self._waiting: deque[queue.Claim] = deque()
        self._tasks = 0
        #: How long the last job ran (seconds); nothing is claimed ahead until one has run.
        self._last_run = float("inf")
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._executor: ThreadPoolExecutor | None = None
        self._outage = outage.Watch(log, "job workers")

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(self.settings.size, thread_name_prefix="job")
        for target, name in ((self._claim_loop, "job-claimer"), (self._heartbeat_loop, "job-beat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Look for runnable jobs now (called after a submit commits)."""
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        self._beat.set()
        for thread in self._threads:
            thread.join(timeout=self.settings.grace)
        with self._lock:  # waiting claims never start; the release below hands them back
            for claim in self._waiting:
                self._active.pop(claim.job_id, None)
                self._granted.pop(claim.job_id, None)
            self._waiting.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._wait_for_running(self.settings.grace)
        with self.sessions() as session:
            released = queue.release(session, self.owner)
            session.commit()
        if released:
            log.info("handed %d unfinished job(s) back to the queue", released)

    def _wait_for_running(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)

    def running(self) -> int:
        with self._lock:
            return len(self._active)

    def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.clear()  # before looking, so that a wake during the claim is kept
            try:
                self._claim_and_run()
                self._outage.succeeded(wrote=False)
            except Exception as exc:
                if self._outage.failed(exc) is None:
                    log.exception("claiming jobs failed; retrying")
            self._wakeup.wait(self.settings.poll)

    def _claim_and_run(self) -> None:
        if self._executor is None:
            return
        with self._lock:
            free = self.settings.size - self._tasks
            ahead = self._ahead()
            # With a thread free, claim at once; else refill the waiting jobs in batches.
            if free <= 0 and len(self._waiting) > ahead // 2:
                return
            wanted = max(free, 0) + ahead - len(self._waiting)
        if wanted <= 0:
            return
        with self.sessions() as session:
            lease = self._lease(session)
            claims = queue.claim(session, self.owner, lease, limit=wanted)
            session.commit()
        with self._lock:
            for claim in claims:
                self._active[claim.job_id] = claim
                self._granted[claim.job_id] = lease
            if claims and lease.total_seconds() / 3 < self._beat_sleep:
                self._beat.set()  # the heartbeat sleeps past a third of this lease
            self._waiting.extend(claims)
            starting = min(self.settings.size - self._tasks, len(self._waiting))
            self._tasks += max(starting, 0)
        for _ in range(starting):
            self._executor.submit(self._work)

    def _ahead(self) -> int:
        """How many jobs may wait claimed beside the running ones (only while jobs are short)."""
        if self._last_run >= self.settings.short:
            return 0
        return 4 * self.settings.size if self.settings.ahead is None else self.settings.ahead

    def _work(self) -> None:
        """One worker task: run waiting jobs until none is left (or the pool stops)."""
        while (claim := self._next()) is not None:
            self._run(claim)

    def _next(self) -> queue.Claim | None:
        with self._lock:
            if self._waiting and not self._stopping.is_set():
                return self._waiting.popleft()
            self._tasks -= 1
            return None

    def _run(self, claim: queue.Claim) -> None:
        started = time.monotonic()
        try:
            self.execute(claim)
        except Exception:
            log.exception(
                "job %d attempt %d failed outside its handler", claim.job_id, claim.attempt
            )
        finally:
            with self._lock:
                self._active.pop(claim.job_id, None)
                self._granted.pop(claim.job_id, None)
                self._last_run = time.monotonic() - started
                # Wake the claimer only when it has something to do (as ``_claim_and_run``).
                wanted = len(self._waiting) <= self._ahead() // 2
            if wanted:
                self._wakeup.set()

    def _lease(self, session: Session) -> datetime.timedelta:
        """The lease in force now (read at each claim and beat, so it may change while running)."""
        if self.settings.lease_of is None:
            return self.settings.lease
        return self.settings.lease_of(session)

    def _beat_interval(self) -> float:
        """A third of the lease in force, or of the shortest lease a held claim was granted
        if that is shorter; the fixed lease if the setting cannot be read."""
        try:
            with self.sessions() as session:
                lease = self._lease(session)
        except Exception:
            log.exception("reading the job lease failed; beating at a third of the fallback")
            lease = self.settings.lease
        with self._lock:
            granted = min(self._granted.values(), default=lease)
            self._beat_sleep = min(lease, granted).total_seconds() / 3
            return self._beat_sleep

    def _heartbeat_loop(self) -> None:
        while not self._stopping.is_set():
            self._beat.wait(self._beat_interval())
            self._beat.clear()
            if self._stopping.is_set():
                return
            with self._lock:
                claims = list(self._active.values())
            for claim in claims:
                self._renew(claim)

    def _renew(self, claim: queue.Claim) -> None:
        try:
            with self.sessions() as session:
                silence = self._silence(session)
                lease = self._lease(session)
                kept = queue.renew(session, claim, lease, active_within=silence)
                session.commit()
        except Exception as exc:
            if self._outage.failed(exc) is None:
                log.exception("renewing the lease of job %d failed", claim.job_id)
            return
        if kept:
            with self._lock:
                if claim.job_id in self._active:
                    self._granted[claim.job_id] = lease
            return
        log.warning(
            "job %d attempt %d lost its lease or showed no activity for %s: not renewed",
            claim.job_id,
            claim.attempt,
            silence,
        )

    def _silence(self, session: Session) -> datetime.timedelta:
        if self.settings.silence_of is None:
            return self.settings.silence
        return self.settings.silence_of(session)
