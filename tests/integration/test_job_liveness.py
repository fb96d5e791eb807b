"""Liveness is shown, never assumed (issue 7, item 5), on every backend: the heartbeat renews
only a job that showed activity, a job silent past job.cancel.threshold.minutes fails and its
rows are recovered, a command that must not be rerun is recovered instead, and a checkpoint
renews by the configured lease and leaves the session fresh."""

from __future__ import annotations

import datetime
import json
import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.config import keys, service
from cirrostack.db.models import templates
from cirrostack.jobs import clock, context, lease, queue, reaper, worker
from cirrostack.protocol import messages
from cirrostack.states import gate, holds, machines
from tests.conftest import Database
from tests.integration.test_job_lease_dynamic import eventually, remaining, set_lease
from tests.integration.test_job_resources import seeded, state_of, template_copy

LEASE = datetime.timedelta(seconds=60)
HOUR = datetime.timedelta(hours=1)


def submit(session: Session, on_lost: queue.OnLost = queue.OnLost.RERUN) -> int:
    submission = queue.Submission(
        user_id=2, account_id=2, command="copyTemplate", parameters={}, on_lost=on_lost
    )
    job_id = queue.submit(session, submission).id
    session.commit()
    return job_id


def claim(session: Session, lease: datetime.timedelta = LEASE) -> queue.Claim:
    [run] = queue.claim(session, 7, lease)
    session.commit()
    return run


def silent_since(database: Database, job_id: int, ago: datetime.timedelta) -> None:
    with database.sessions() as session:
        now = clock.database_now(session)
        session.execute(
            sa.update(queue.Job).where(queue.Job.id == job_id).values(last_activity=now - ago)
        )
        session.commit()


def copying_for(database: Database, ref_id: int, run: queue.Claim) -> None:
    with database.sessions() as session:
        holds.act_for(session, run.job_id)
        ref = session.get_one(templates.TemplateStoreRef, ref_id)
        gate.transition(
            session, ref, machines.ObjectInDataStoreEvent.CopyRequested, fence=queue.fence(run)
        )
        session.commit()


def result_of(database: Database, job_id: int) -> tuple[int, str]:
    with database.sessions() as session:
        job = session.get_one(queue.Job, job_id)
        return job.job_status, json.loads(job.job_result or "{}").get("errortext", "")


def test_the_heartbeat_renews_only_a_job_that_showed_activity(database: Database) -> None:
    with seeded(database) as session:
        submit(session)
        run = claim(session)
    silent_since(database, run.job_id, 2 * HOUR)
    with database.sessions() as session:
        assert not queue.renew(session, run, LEASE, active_within=HOUR)
        session.commit()
    with database.sessions() as session:
        queue.record_activity(session, run)
        session.commit()
    with database.sessions() as session:
        assert queue.renew(session, run, LEASE, active_within=HOUR)
        session.commit()


def test_a_pool_lets_a_silent_jobs_lease_run_out(database: Database) -> None:
    with seeded(database) as session:
        job_id = submit(session)
    set_lease(database, 6)
    release = threading.Event()
    pool = worker.WorkerPool(
        database.sessions,
        lambda claim: release.wait(30),
        owner=worker.new_owner_id(),
        settings=worker.PoolSettings(
            size=1, poll=0.05, lease=datetime.timedelta(seconds=6), silence=HOUR
        ),
    )
    pool.start()
    try:
        pool.wake()
        eventually(lambda: pool.running() == 1)
        silent_since(database, job_id, 2 * HOUR)
        # Beats come every 2 s; none renews a silent job, so its 6 s lease runs out.
        eventually(lambda: remaining(database, job_id) < 0, seconds=15)
    finally:
        release.set()
        pool.stop()


def test_a_job_silent_past_the_threshold_fails_and_its_rows_are_recovered(
    database: Database,
) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        job_id = submit(session)
        run = claim(session)
    copying_for(database, ref.id, run)
    silent_since(database, job_id, 2 * HOUR)
    with database.sessions() as session:  # the setting is read at each pass
        now = clock.database_now(session)
        service.update(session, keys.JOB_CANCEL_THRESHOLD_MINUTES.name, "90", None, now)
        session.commit()
    swept = reaper.sweep(database.sessions, max_attempts=3, silence_of=lease.silence)
    assert swept.failed == [job_id]
    status, text = result_of(database, job_id)
    assert status == queue.Status.FAILED
    assert "job.cancel.threshold.minutes" in text and "90 minute(s)" in text
    with database.sessions() as session:
        assert state_of(session, ref) == "Ready"


def test_a_lost_run_of_a_command_that_must_be_recovered_is_not_rerun(
    database: Database,
) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        job_id = submit(session, queue.OnLost.RECOVER)
        run = claim(session, lease=datetime.timedelta(seconds=-5))
    copying_for(database, ref.id, run)
    swept = reaper.sweep(database.sessions, max_attempts=3)
    assert (swept.requeued, swept.failed) == ([], [job_id])
    status, text = result_of(database, job_id)
    assert status == queue.Status.FAILED and "not run again blindly" in text
    with database.sessions() as session:
        assert state_of(session, ref) == "Ready"


def test_a_lost_run_of_a_rerunnable_command_is_requeued_and_keeps_its_rows(
    database: Database,
) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        job_id = submit(session, queue.OnLost.RERUN)
        run = claim(session, lease=datetime.timedelta(seconds=-5))
    copying_for(database, ref.id, run)
    swept = reaper.sweep(database.sessions, max_attempts=3)
    assert (swept.requeued, swept.failed, swept.recovered) == ([job_id], [], [])
    with database.sessions() as session:
        assert state_of(session, ref) == "Copying"


def test_a_checkpoint_renews_by_the_configured_lease_and_leaves_the_session_fresh(
    database: Database,
) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        submit(session)
        run = claim(session)
    set_lease(database, 600)
    with database.sessions() as session:
        job = context.JobContext(run, database.sessions, session)
        loaded = session.get_one(templates.TemplateStoreRef, ref.id)
        assert loaded.install_path is None
        job.checkpoint()
        assert remaining(database, run.job_id) > 500  # not a fixed 60 s
        with database.sessions() as other:
            other.execute(
                sa.update(templates.TemplateStoreRef)
                .where(templates.TemplateStoreRef.id == ref.id)
                .values(install_path="template/tmpl/1.qcow2")
            )
            other.commit()
        assert loaded.install_path == "template/tmpl/1.qcow2"
        session.rollback()


def test_activity_is_recorded_for_the_heartbeat(database: Database) -> None:
    with seeded(database) as session:
        submit(session)
        run = claim(session)
    silent_since(database, run.job_id, 2 * HOUR)
    with database.sessions() as session:
        context.JobContext(run, database.sessions, session).activity()
    with database.sessions() as session:
        assert queue.renew(session, run, LEASE, active_within=HOUR)
        session.commit()


def test_agent_progress_is_the_jobs_progress_and_activity(database: Database) -> None:
    with seeded(database) as session:
        submit(session)
        run = claim(session)
    silent_since(database, run.job_id, 2 * HOUR)
    with database.sessions() as session:
        report = context.AgentProgress(context.JobContext(run, database.sessions, session))
        report(messages.Progress(command_id="c-1", done=3, total=10, phase="draining"))
        report(messages.Progress(command_id="c-1", done=0, total=0, phase="draining"))
    with database.sessions() as session:
        assert session.get_one(queue.Job, run.job_id).job_process_status == 30
        assert queue.renew(session, run, LEASE, active_within=HOUR)
        session.commit()
