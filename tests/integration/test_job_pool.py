"""The worker pool's claim path on every backend: short jobs are claimed ahead in batches,
long ones are not, and a stopped pool hands every claim back (issue 7, item 8)."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from cirrostack.accounts import bootstrap
from cirrostack.jobs import queue, worker
from tests.conftest import Database

OWNER = 4242


def submit_jobs(database: Database, count: int) -> list[int]:
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        submission = queue.Submission(
            user_id=2, account_id=2, command="deleteAccount", parameters={}
        )
        ids = [queue.submit(session, submission).id for _ in range(count)]
        session.commit()
    return ids


def held(database: Database) -> int:
    """Jobs the pool holds now: claimed (running or waiting) and not finished."""
    with database.sessions() as session:
        return int(
            session.execute(
                sa.select(sa.func.count()).where(
                    queue.Job.job_executing_msid == OWNER,
                    queue.Job.job_status == int(queue.Status.IN_PROGRESS),
                )
            ).scalar_one()
        )


class Recorder:
    """A job handler that notes how many jobs the pool holds, sleeps, and finishes its job."""

    def __init__(self, database: Database, count: int, seconds: float = 0.0) -> None:
        self.database = database
        self.seconds = seconds
        self.most_held = 0
        self.left = count
        self.lock = threading.Lock()
        self.done = threading.Event()

    def __call__(self, claim: queue.Claim) -> None:
        now_held = held(self.database)
        time.sleep(self.seconds)
        with self.database.sessions() as session:
            queue.finish(session, claim, queue.Status.SUCCEEDED, 0, {})
            session.commit()
        with self.lock:
            self.most_held = max(self.most_held, now_held)
            self.left -= 1
            if self.left == 0:
                self.done.set()


def drain(database: Database, handler: Recorder, settings: worker.PoolSettings) -> None:
    pool = worker.WorkerPool(database.sessions, handler, owner=OWNER, settings=settings)
    pool.start()
    try:
        assert handler.done.wait(60), f"{handler.left} job(s) left"
    finally:
        pool.stop()


def test_short_jobs_are_claimed_ahead_of_the_free_threads(database: Database) -> None:
    ids = submit_jobs(database, 40)
    handler = Recorder(database, len(ids))
    # ``short`` is generous so that a loaded test machine still counts these jobs as short.
    drain(database, handler, worker.PoolSettings(size=2, poll=0.05, short=5.0))
    assert handler.most_held > 2, "no claim took more jobs than the pool has threads"
    assert held(database) == 0


def test_long_jobs_are_not_claimed_ahead(database: Database) -> None:
    ids = submit_jobs(database, 3)
    handler = Recorder(database, len(ids), seconds=0.2)
    drain(database, handler, worker.PoolSettings(size=1, poll=0.05, short=0.1))
    assert handler.most_held == 1


def test_a_stopped_pool_hands_back_its_waiting_claims_at_once(database: Database) -> None:
    submit_jobs(database, 30)
    release = threading.Event()
    started: list[int] = []

    def first_short_then_wait(claim: queue.Claim) -> None:
        started.append(claim.job_id)
        if len(started) > 1:
            release.wait(30)
        with database.sessions() as session:
            queue.finish(session, claim, queue.Status.SUCCEEDED, 0, {})
            session.commit()

    settings = worker.PoolSettings(size=1, poll=0.05, grace=0.5, short=5.0)
    pool = worker.WorkerPool(
        database.sessions, first_short_then_wait, owner=OWNER, settings=settings
    )
    pool.start()
    deadline = time.monotonic() + 20
    while held(database) < 2:  # one running, at least one waiting
        assert time.monotonic() < deadline, "the pool claimed nothing ahead"
        time.sleep(0.05)
    stopping = time.monotonic()
    pool.stop()
    took = time.monotonic() - stopping
    release.set()
    assert held(database) == 0
    # Waiting claims are dropped at once: only the running job's grace is waited for.
    assert took < 5.0, f"stop took {took:.1f} s"
