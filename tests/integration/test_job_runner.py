"""The job runner (jobs/runner.py) with a real body, on every backend: a run that fails after it
moved several rows into transitional states has every one of them recovered at once, in the
failure's transaction; a run that succeeds keeps what it wrote and releases its holds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import storage, templates
from cirrostack.jobs import context, queue, runner
from cirrostack.states import gate, holds, machines
from tests.conftest import Database
from tests.integration.test_job_resources import held, seeded, state_of, template_copy

OE = machines.ObjectInDataStoreEvent


class CopyBoth:
    """Starts copying two template copies, checkpoints (the slow copy would run here), then
    finishes them or fails, as told."""

    def __init__(self, ref_ids: list[int], *, fail: bool) -> None:
        self.ref_ids = ref_ids
        self.fail = fail
        self.failures: list[runner.Failure] = []

    def run(self, session: Session, claim: queue.Claim, job: context.JobContext) -> Any:
        for ref_id in self.ref_ids:
            ref = session.get_one(templates.TemplateStoreRef, ref_id)
            gate.transition(session, ref, OE.CopyRequested, fence=job.fence())
        job.checkpoint()
        job.activity()
        if self.fail:
            raise RuntimeError("the copy broke half-way")
        for ref_id in self.ref_ids:
            ref = session.get_one(templates.TemplateStoreRef, ref_id)
            gate.transition(session, ref, OE.OperationSuccessed, fence=job.fence())
        return {"success": True}

    def failure_of(self, exc: Exception) -> runner.Failure:
        return runner.Failure(530, str(exc))

    def failed(self, session: Session, claim: queue.Claim, failure: runner.Failure) -> None:
        self.failures.append(failure)


def second_copy(session: Session, template_id: int) -> int:
    """A second copy of the template, on a second image store of the first one's zone (a
    template has at most one live copy per store)."""
    first = session.get_one(
        storage.ImageStore, session.scalar(sa.select(templates.TemplateStoreRef.store_id))
    )
    store = storage.ImageStore(
        name="second",
        protocol="nfs",
        url="nfs://10.0.0.9/second",
        image_provider_name="NFS",
        data_center_id=first.data_center_id,
        scope="ZONE",
    )
    session.add(store)
    session.flush()
    ref = templates.TemplateStoreRef(template_id=template_id, store_id=store.id, state="Ready")
    session.add(ref)
    session.commit()
    ref_id = ref.id
    session.rollback()
    return ref_id


def run_job(database: Database, body: CopyBoth) -> int:
    with database.sessions() as session:
        job_id = queue.submit(
            session,
            queue.Submission(user_id=2, account_id=2, command="copyTemplate", parameters={}),
        ).id
        session.commit()
    inline = runner.Inline(database.sessions, runner.Runner(database.sessions, body))
    inline.submitted()
    return job_id


def test_a_failed_run_has_every_row_it_held_recovered(database: Database) -> None:
    with seeded(database) as session:
        first = template_copy(session)
        other = second_copy(session, first.template_id)
    body = CopyBoth([first.id, other], fail=True)
    job_id = run_job(database, body)
    with database.sessions() as session:
        job = session.get_one(queue.Job, job_id)
        assert job.job_status == queue.Status.FAILED
        assert [f.text for f in body.failures] == ["the copy broke half-way"]
        for ref_id in (first.id, other):
            assert state_of(session, session.get_one(templates.TemplateStoreRef, ref_id)) == (
                "Ready"
            )
        assert held(session) == []


def test_a_successful_run_releases_its_holds(database: Database) -> None:
    with seeded(database) as session:
        first = template_copy(session)
    job_id = run_job(database, CopyBoth([first.id], fail=False))
    with database.sessions() as session:
        assert session.get_one(queue.Job, job_id).job_status == queue.Status.SUCCEEDED
        assert held(session) == []
        assert holds.held_by(session, job_id) == []
