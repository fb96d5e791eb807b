"""job.lease.seconds is dynamic: a running pool claims and renews with the value in force now
(issue 6, finding 12), on every backend."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cirrostack.accounts import bootstrap
from cirrostack.config import keys, service
from cirrostack.jobs import clock, lease, queue, worker
from tests.conftest import Database


def set_lease(database: Database, seconds: int) -> None:
    with database.sessions() as session:
        now = clock.database_now(session)
        service.update(session, keys.JOB_LEASE_SECONDS.name, str(seconds), None, now)
        session.commit()


def remaining(database: Database, job_id: int) -> float:
    """Seconds until the job's lease runs out (database time)."""
    with database.sessions() as session:
        job = session.get(queue.Job, job_id)
        assert job is not None and job.lease_expires is not None
        return (job.lease_expires - clock.database_now(session)).total_seconds()


def submit(database: Database) -> int:
    """A job for the pool to claim (its body only waits)."""
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        submission = queue.Submission(
            user_id=2, account_id=2, command="deleteAccount", parameters={}
        )
        job_id = queue.submit(session, submission).id
        session.commit()
    return job_id


def waiting_pool(database: Database, release: threading.Event, poll: float) -> worker.WorkerPool:
    """One worker whose job waits for ``release``; the lease is the setting's."""
    return worker.WorkerPool(
        database.sessions,
        lambda claim: release.wait(30),
        owner=worker.new_owner_id(),
        # The fixed lease (60 s) is only the fallback: the setting decides.
        settings=worker.PoolSettings(size=1, poll=poll, lease_of=lease.configured),
    )


def eventually(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_new_lease_applies_to_claims_and_beats_without_a_restart(database: Database) -> None:
    job_id = submit(database)
    set_lease(database, 6)
    release = threading.Event()
    pool = waiting_pool(database, release, poll=0.05)
    pool.start()
    try:
        pool.wake()
        eventually(lambda: pool.running() == 1)
        assert 0 < remaining(database, job_id) <= 6.5
        set_lease(database, 120)
        # The next heartbeat (a third of 6 s) renews with the new value.
        eventually(lambda: remaining(database, job_id) > 60)
    finally:
        release.set()
        pool.stop()


def test_a_claim_with_a_shorter_lease_than_the_heartbeat_sleeps_for_is_renewed_in_time(
    database: Database,
) -> None:
    """The heartbeat slept a third of a 120 s lease when the lease became 5 s: a claim granted
    5 s wakes it, so the claim is renewed before it lapses (it used to sleep on for 40 s)."""
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        session.commit()
    set_lease(database, 120)
    release = threading.Event()
    pool = waiting_pool(database, release, poll=3600)
    pool.start()
    try:
        time.sleep(0.5)  # the heartbeat reads 120 s and sleeps for 40 s
        set_lease(database, 5)
        job_id = submit(database)
        pool.wake()
        eventually(lambda: pool.running() == 1)
        claimed_until = remaining(database, job_id)
        assert 0 < claimed_until <= 5.5
        # Renewed at a third of 5 s: still held after twice its first lease.
        time.sleep(10)
        assert remaining(database, job_id) > 0
    finally:
        release.set()
        pool.stop()
