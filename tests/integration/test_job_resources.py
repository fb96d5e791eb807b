"""A job holds every row it moves into a transitional state (issue 7, item 4), on every backend.

The bug this reproduces: a job owned exactly one resource (``instance_type``/``instance_id``),
so the reaper "recovered" a Copying template copy under a live, leased job.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import bootstrap
from cirrostack.db.models import guest_os, infrastructure, storage, templates
from cirrostack.jobs import queue, reaper
from cirrostack.states import bindings, errors, gate, holds, machines
from tests.conftest import Database

LEASE = datetime.timedelta(seconds=60)
OE = machines.ObjectInDataStoreEvent


def seeded(database: Database) -> Session:
    session = database.sessions()
    bootstrap.ensure_cloud(session)
    session.commit()
    return session


def template_copy(session: Session, state: str = "Ready") -> templates.TemplateStoreRef:
    category = guest_os.GuestOsCategory(name="Debian")
    session.add(category)
    session.flush()
    os_ = guest_os.GuestOs(category_id=category.id, display_name="Debian 12")
    store = storage.ImageStore(name="sec", protocol="nfs", image_provider_name="NFS")
    session.add_all([os_, store])
    session.flush()
    template = templates.VmTemplate(name="tmpl", format="QCOW2", account_id=2, guest_os_id=os_.id)
    session.add(template)
    session.flush()
    ref = templates.TemplateStoreRef(template_id=template.id, store_id=store.id, state=state)
    session.add(ref)
    session.flush()
    session.expunge(ref)  # a detached copy of what was written: no reads hold SQLite's lock
    session.commit()
    return ref


def running_job(session: Session) -> queue.Claim:
    submission = queue.Submission(user_id=2, account_id=2, command="copyTemplate", parameters={})
    queue.submit(session, submission)
    session.commit()
    [run] = queue.claim(session, 7, LEASE)
    session.commit()
    return run


def start_copy(database: Database, ref_id: int, run: queue.Claim) -> None:
    """What the job's body does: Copying, fenced by its claim, committed (a checkpoint)."""
    with database.sessions() as session:
        holds.act_for(session, run.job_id)
        ref = session.get_one(templates.TemplateStoreRef, ref_id)
        gate.transition(session, ref, OE.CopyRequested, fence=queue.fence(run))
        session.commit()


def state_of(session: Session, ref: Any) -> str:
    session.expire_all()
    state = session.scalar(
        sa.select(templates.TemplateStoreRef.state).where(templates.TemplateStoreRef.id == ref.id)
    )
    session.rollback()  # end the read: on SQLite an open transaction holds the write lock
    return str(state)


def held(session: Session) -> list[tuple[int, str, int]]:
    rows = session.execute(
        sa.select(holds.Held.job_id, holds.Held.resource_type, holds.Held.resource_id)
    ).all()
    session.rollback()
    return [(int(a), str(b), int(c)) for a, b, c in rows]


def test_a_copy_under_a_live_job_is_not_recovered_and_is_once_the_job_ends(
    database: Database,
) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        run = running_job(session)
        start_copy(database, ref.id, run)
        resource_type = bindings.TEMPLATE_STORE_REF.resource_type
        assert held(session) == [(run.job_id, resource_type, ref.id)]
        assert reaper.sweep(database.sessions, max_attempts=3).recovered == []
        assert state_of(session, ref) == "Copying"
        queue.finish(session, run, queue.Status.FAILED, 530, {"errorcode": 530})
        session.commit()
        assert held(session) == []
        swept = reaper.sweep(database.sessions, max_attempts=3)
        assert swept.recovered == [bindings.TEMPLATE_STORE_REF.label(ref)]
        assert state_of(session, ref) == "Ready"


def test_a_row_leaving_its_transitional_state_is_released(database: Database) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        run = running_job(session)
        start_copy(database, ref.id, run)
        with database.sessions() as body:
            holds.act_for(body, run.job_id)
            copy = body.get_one(templates.TemplateStoreRef, ref.id)
            gate.transition(body, copy, OE.OperationSuccessed, fence=queue.fence(run))
            body.commit()
        session.expire_all()
        assert held(session) == []


def test_another_live_job_cannot_move_a_held_row(database: Database) -> None:
    with seeded(database) as session:
        ref = template_copy(session)
        first = running_job(session)
        start_copy(database, ref.id, first)
        second = running_job(session)
        with database.sessions() as body:
            holds.act_for(body, second.job_id)
            copy = body.get_one(templates.TemplateStoreRef, ref.id)
            # Copying -> Copying is no transition of the machine; force the case the table
            # allows: the first job's hold blocks a second job entering another transitional
            # state from it (Copying -> Ready -> Copying would release first).
            with pytest.raises(errors.HeldByAnotherJob):
                holds.moved(
                    body,
                    bindings.TEMPLATE_STORE_REF,
                    copy,
                    machines.ObjectInDataStoreState.Ready,
                    machines.ObjectInDataStoreState.Copying,
                )
            body.rollback()
        assert held(session) == [(first.job_id, "TemplateStoreRef", ref.id)]


def test_the_row_a_submit_moves_is_held_by_the_new_job(database: Database) -> None:
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
        job = queue.submit(
            session,
            queue.Submission(
                user_id=2, account_id=2, command="prepareHostForMaintenance", parameters={}
            ),
        )
        holds.bind(session, job.id)
        holds.stop(session)
        job_id, host_id, label = job.id, host.id, f"Host {host.uuid}"
        session.commit()
        assert held(session) == [(job_id, bindings.HOST_RESOURCE_STATE.resource_type, host_id)]
        assert reaper.sweep(database.sessions, max_attempts=3).recovered == []
        # A pending job is cancelled: its hold goes with it, and the host is recovered.
        assert queue.cancel(session, job, "admin") is queue.Status.CANCELLED
        session.commit()
        assert held(session) == []
        assert reaper.sweep(database.sessions, max_attempts=3).recovered == [label]
