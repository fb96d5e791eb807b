"""A finish deletes a job's hold records exactly when the job may have any (issue 7, item 8).

The finish of a job that held nothing skips the DELETE of ``async_job_resource`` (one statement
of three per job on SQLite). These tests fail if a record could survive its finished job: rows
bound at submit, rows held after the claim in another session acting for the job, claims
made by hand; and if the DELETE were sent for a job known to hold nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure
from cirrostack.jobs import queue
from cirrostack.states import bindings, gate, holds, machines
from tests.conftest import Database
from tests.integration.test_job_resources import held, seeded, start_copy, template_copy

LEASE = datetime.timedelta(seconds=60)
SUBMISSION = queue.Submission(user_id=2, account_id=2, command="copyTemplate", parameters={})


def returning(session: Session) -> bool:
    """Whether the claim reads the holds in its one statement (else it assumes some)."""
    return bool(session.get_bind().dialect.update_returning)


@contextmanager
def deletes_of_holds(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM ASYNC_JOB_RESOURCE"):
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def claim_one(session: Session) -> queue.Claim:
    [run] = queue.claim(session, 7, LEASE)
    session.commit()
    return run


def test_a_job_that_held_nothing_finishes_without_the_delete(database: Database) -> None:
    with seeded(database) as session:
        queue.submit(session, SUBMISSION)
        session.commit()
        run = claim_one(session)
        assert run.record.held is not returning(session)
        with deletes_of_holds(database) as deletes:
            queue.finish(session, run, queue.Status.SUCCEEDED, 0, {})
            session.commit()
        assert len(deletes) == (0 if returning(session) else 1)
        assert held(session) == []


def test_a_row_held_after_the_claim_in_another_session_is_released(database: Database) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        queue.submit(session, SUBMISSION)
        session.commit()
        run = claim_one(session)
        start_copy(database, ref.id, run)  # its own session, acting for the job by id
        assert run.record.held
        assert held(session) == [(run.job_id, bindings.TEMPLATE_STORE_REF.resource_type, ref.id)]
        queue.finish(session, run, queue.Status.FAILED, 530, {"errorcode": 530})
        session.commit()
        assert held(session) == []


def test_rows_bound_at_submit_are_seen_by_the_claim_and_released(database: Database) -> None:
    with seeded(database) as session:
        zone = infrastructure.DataCenter(name="z1")
        session.add(zone)
        session.flush()
        host = infrastructure.Host(
            name="h1",
            type="Routing",
            data_center_id=zone.id,
            private_ip_address="10.0.0.1",
            version="1",
            resource_state="Enabled",
        )
        session.add(host)
        session.commit()
        holds.collect(session)
        gate.transition(session, host, machines.ResourceStateEvent.AdminAskMaintenance)
        job = queue.submit(session, SUBMISSION)
        holds.bind(session, job.id)
        holds.stop(session)
        session.commit()
        run = claim_one(session)
        assert run.record.held
        queue.finish(session, run, queue.Status.SUCCEEDED, 0, {})
        session.commit()
        assert held(session) == []


def test_a_hand_made_claim_counts_as_holding_rows(database: Database) -> None:
    with seeded(database) as session:
        queue.submit(session, SUBMISSION)
        session.commit()
        run = claim_one(session)
        # The same run's token rebuilt (as a tool or test would): no record, so it deletes.
        again = queue.Claim(run.job_id, run.attempt, run.owner, keyed=run.keyed)
        assert again == run and again.record.held
        with deletes_of_holds(database) as deletes:
            queue.finish(session, again, queue.Status.SUCCEEDED, 0, {})
            session.commit()
        assert len(deletes) == 1
