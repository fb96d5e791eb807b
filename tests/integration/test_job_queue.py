"""The job queue and reaper on a real database (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import datetime
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import bootstrap
from cirrostack.db.models import infrastructure
from cirrostack.jobs import clock, queue, reaper
from cirrostack.states import errors as state_errors
from cirrostack.states import gate, machines
from tests import rows
from tests.conftest import Database

LEASE = datetime.timedelta(seconds=60)
EXPIRED = datetime.timedelta(seconds=-5)


def seeded(database: Database) -> Session:
    session = database.sessions()
    bootstrap.ensure_cloud(session)
    session.commit()
    return session


def submit(session: Session, key: str | None = None, **extra: object) -> queue.Job:
    submission = queue.Submission(
        user_id=2, account_id=2, command="deleteAccount", parameters={}, queue_key=key, **extra
    )  # type: ignore[arg-type]
    job = queue.submit(session, submission)
    session.commit()
    return job


def claim(session: Session, owner: int = 7, **options: object) -> list[queue.Claim]:
    claims = queue.claim(session, owner, options.pop("lease", LEASE), **options)  # type: ignore[arg-type]
    session.commit()
    return claims


def test_a_claim_takes_a_pending_job_once_with_attempt_one(database: Database) -> None:
    with seeded(database) as session:
        job = submit(session)
        [first] = claim(session)
        assert (first.job_id, first.attempt, first.owner) == (job.id, 1, 7)
        assert claim(session) == []
        session.refresh(job)
        assert job.job_executing_msid == 7 and job.lease_expires is not None


def test_jobs_on_one_queue_key_run_one_at_a_time_in_order(database: Database) -> None:
    with seeded(database) as session:
        first, second = submit(session, "Host:1"), submit(session, "Host:1")
        other = submit(session, "Host:2")
        claimed = {c.job_id for c in claim(session, limit=10)}
        assert claimed == {first.id, other.id}
        assert claim(session, limit=10) == []
        [done] = [c for c in claimed_claims(session, first.id)]
        queue.finish(session, done, queue.Status.SUCCEEDED, 0, {"success": True})
        session.commit()
        assert [c.job_id for c in claim(session, limit=10)] == [second.id]


def claimed_claims(session: Session, job_id: int) -> list[queue.Claim]:
    job = session.get_one(queue.Job, job_id)
    session.refresh(job)
    return [queue.Claim(job.id, job.attempt, job.job_executing_msid or 0)]


def test_finish_is_fenced_by_the_claim(database: Database) -> None:
    with seeded(database) as session:
        submit(session)
        [run] = claim(session, lease=EXPIRED)
        expired = queue.expire(session, max_attempts=3)
        session.commit()
        assert list(expired.requeued) == [run.job_id]
        with pytest.raises(queue.LeaseLost):
            queue.finish(session, run, queue.Status.SUCCEEDED, 0, {})
        session.rollback()
        assert not queue.renew(session, run, LEASE)
        [again] = claim(session, owner=8)
        assert (again.job_id, again.attempt) == (run.job_id, 2)
        queue.finish(session, again, queue.Status.SUCCEEDED, 0, {"success": True})
        session.commit()
        job = session.get_one(queue.Job, run.job_id)
        session.refresh(job)
        assert (job.job_status, job.job_complete_msid) == (1, 8)


def test_a_job_is_given_up_after_its_attempts(database: Database) -> None:
    with seeded(database) as session:
        job = submit(session)
        for _ in range(2):
            claim(session, lease=EXPIRED)
            queue.expire(session, max_attempts=2)
            session.commit()
        session.refresh(job)
        assert (job.job_status, job.job_result_code) == (2, 530)
        assert "giving up" in (job.job_result or "")


def test_cancel_ends_a_pending_job_and_signals_a_running_one(database: Database) -> None:
    with seeded(database) as session:
        pending, running = submit(session, "a"), submit(session, "b")
        [run] = claim(session, job_id=running.id)
        assert queue.cancel(session, pending, "admin") is queue.Status.CANCELLED
        assert queue.cancel(session, running, "admin") is queue.Status.IN_PROGRESS
        session.commit()
        assert queue.cancel_requested(session, run)
        session.refresh(pending)
        assert pending.job_status == 3 and pending.removed is not None


def test_the_database_clock_is_utc(database: Database) -> None:
    with database.sessions() as session:
        now = clock.database_now(session)
    local = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert abs((now - local).total_seconds()) < 5


@pytest.mark.timeout(60)
def test_concurrent_claims_skip_locked_rows(database: Database) -> None:
    if database.backend == "sqlite":
        pytest.skip("SQLite has one writer at a time: there is nothing to skip")
    with seeded(database) as session:
        ids = {submit(session).id for _ in range(4)}
    holder = database.sessions()
    held = queue.claim(holder, 1, LEASE, limit=2)  # row locks held, not committed
    result: list[queue.Claim] = []
    thread = threading.Thread(
        target=lambda: result.extend(_claim_in_new_session(database, 2)), daemon=True
    )
    thread.start()
    thread.join(timeout=20)
    holder.commit()
    holder.close()
    assert not thread.is_alive(), "the second claim waited for the first one's locks"
    assert {c.job_id for c in held}.isdisjoint({c.job_id for c in result})
    assert {c.job_id for c in held} | {c.job_id for c in result} == ids


def _claim_in_new_session(database: Database, owner: int) -> list[queue.Claim]:
    with database.sessions() as session:
        claims = queue.claim(session, owner, LEASE, limit=4)
        session.commit()
        return claims


def host_in_maintenance_preparation(session: Session) -> infrastructure.Host:
    zone, pod, cluster = rows.zone_pod_cluster(session)
    host = infrastructure.Host(
        name="h",
        type="Routing",
        data_center_id=zone.id,
        pod_id=pod.id,
        cluster_id=cluster.id,
        private_ip_address="10.0.0.1",
        version="1",
        guid="h-guid",
    )
    session.add(host)
    session.flush()
    gate.transition(session, host, machines.ResourceStateEvent.InternalCreated)
    gate.transition(session, host, machines.ResourceStateEvent.AdminAskMaintenance)
    return host


def test_reaper_recovers_a_stranded_resource_and_spares_an_owned_one(database: Database) -> None:
    with seeded(database) as session:
        stranded = host_in_maintenance_preparation(session)
        session.commit()
        owned_job = submit(session, instance_type="Host", instance_id=stranded.id)
        first = reaper.sweep(database.sessions, max_attempts=3)
        assert first.recovered == []
        [run] = claim(session, job_id=owned_job.id)
        queue.finish(session, run, queue.Status.FAILED, 530, {"errorcode": 530})
        session.commit()
        second = reaper.sweep(database.sessions, max_attempts=3)
        assert second.recovered == [f"Host {stranded.uuid}"]
        session.refresh(stranded)
        assert stranded.resource_state == "Enabled"


def test_a_fenced_transition_fails_once_the_run_lost_its_job(database: Database) -> None:
    with seeded(database) as session:
        host = host_in_maintenance_preparation(session)
        session.commit()
        submit(session, instance_type="Host", instance_id=host.id)
        [run] = claim(session, lease=EXPIRED)
        queue.expire(session, max_attempts=3)
        session.commit()
        with pytest.raises(state_errors.StateConflict):
            gate.transition(
                session,
                host,
                machines.ResourceStateEvent.InternalEnterMaintenance,
                fence=queue.fence(run),
            )
        session.rollback()
        assert (
            session.scalar(
                sa.select(infrastructure.Host.resource_state).where(
                    infrastructure.Host.id == host.id
                )
            )
            == "PrepareForMaintenance"
        )


def test_a_job_with_several_keys_waits_for_every_one_and_blocks_every_one(
    database: Database,
) -> None:
    with seeded(database) as session:
        attach = submit(session, "Volume:1", more_keys=("VirtualMachine:1",))
        on_vm = submit(session, "VirtualMachine:1")
        on_volume = submit(session, "Volume:1", more_keys=("VirtualMachine:2",))
        elsewhere = submit(session, "Volume:2")
        assert {c.job_id for c in claim(session, limit=10)} == {attach.id, elsewhere.id}
        [run] = claimed_claims(session, attach.id)
        queue.finish(session, run, queue.Status.SUCCEEDED, 0, {})
        session.commit()
        assert {c.job_id for c in claim(session, limit=10)} == {on_vm.id, on_volume.id}


def test_a_running_job_blocks_an_earlier_job_that_became_visible_late(database: Database) -> None:
    """Ids are handed out before commit: an earlier job may appear after a later one runs."""
    with seeded(database) as session:
        late = submit(session, "Host:9")
        running = submit(session, "Host:1")
        [run] = claim(session, job_id=running.id)
        # The late job turns out to lock Host:1 too (as if its keys committed only now).
        session.add(queue.Key(job_id=late.id, queue_key="Host:1"))
        session.commit()
        assert claim(session, limit=10) == []
        queue.finish(session, run, queue.Status.SUCCEEDED, 0, {})
        session.commit()
        assert [c.job_id for c in claim(session, limit=10)] == [late.id]


def test_two_claimers_that_cannot_see_each_other_never_run_one_key_twice(
    database: Database,
) -> None:
    """The unique running key settles it: the second claimer's write waits, then fails."""
    if database.backend == "sqlite":
        pytest.skip("SQLite has one writer at a time: the claims cannot overlap")
    with seeded(database) as session:
        late = submit(session, "Host:9")
        first = submit(session, "Host:1")
        late_id, first_id = late.id, first.id
    one, two = database.sessions(), database.sessions()
    try:
        assert [c.job_id for c in queue.claim(one, 1, LEASE, job_id=first_id)] == [first_id]
        with database.sessions() as session:  # while the first claim is not committed yet
            session.add(queue.Key(job_id=late_id, queue_key="Host:1"))
            session.commit()
        found: list[list[queue.Claim]] = []
        other = threading.Thread(
            target=lambda: found.append(queue.claim(two, 2, LEASE, job_id=late_id))
        )
        other.start()
        other.join(1.0)  # it waits for the first claimer's uncommitted key
        one.commit()
        other.join(30)
        two.commit()
        assert found == [[]]
    finally:
        one.close()
        two.close()
