"""Async API commands as jobs: submitted with the request, run by the job engine.

At the request (``submit``), in the request's transaction: the parameters are checked (431
before any job exists, as in CloudStack), the command's ``prepare`` moves the resource into its
transitional state, and the job row is inserted, all or nothing. The answer is
``{"jobid": ...}`` (plus ``"id"`` for create-type commands).

In a worker (``Runner``), in the job's transaction: the handler runs with the stored parameters
and the submitter as caller; its outcome and the job's completion commit together, fenced by
the claim, so a run that lost its lease changes nothing. A failed run's resource is recovered
at once by the reaper's rule, in the same transaction as the failure.

Without a worker pool (tests, tools), ``Inline`` runs the submitted job in the caller's thread
through the same claim/run/finish path.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import events
from cirrostack.accounts import access
from cirrostack.api import audit, errors, params, registry, responses
from cirrostack.db import base, transactions
from cirrostack.db.models import accounts as account_models
from cirrostack.jobs import queue, reaper
from cirrostack.states import holds

log = logging.getLogger(__name__)

#: Parameters that never reach a job record: authentication, and secrets (a job record is
#: readable by the submitter's admins). Commands that need a secret cannot be async.
_NOT_STORED = frozenset(
    {
        "apikey",
        "signature",
        "signatureversion",
        "expires",
        "sessionkey",
        "response",
        "command",
        "password",
        "secretkey",
        "usersecretkey",
        "currentpassword",
    }
)


@dataclass(frozen=True)
class Instance:
    """The resource a job acts on (``jobinstancetype``/``jobinstanceid``)."""

    type: str
    id: int
    uuid: str
    #: Further resources the job locks, as (resource type, id): attach names the VM with the
    #: volume, so no other job on either runs beside it (``queue.Submission.more_keys``).
    also: tuple[tuple[str, int], ...] = ()


class JobContext:
    """What a handler running as a job may use: the fence, checkpoints, progress, cancellation.

    A handler must not hold a transaction while it waits on an agent or a disk: on SQLite an
    open transaction holds the database's only write lock, elsewhere it holds row locks. It
    calls ``checkpoint()`` before slow work and writes again afterwards with ``fence()``.
    """

    def __init__(
        self, claim: queue.Claim, sessions: sessionmaker[Session], session: Session
    ) -> None:
        self.claim = claim
        self._sessions = sessions
        self._session = session
        #: Whether a checkpoint committed part of this run (it cannot simply run again).
        self.checkpointed = False

    def checkpoint(self) -> None:
        """Commit what the run wrote so far and end its transaction (no locks held after).

        Raises LeaseLost, committing nothing, if the run no longer owns its job.
        """
        if not queue.renew(self._session, self.claim, _CHECKPOINT_LEASE):
            raise queue.LeaseLost(f"job {self.claim.job_id} is no longer this run's")
        self._session.commit()
        self.checkpointed = True

    def fence(self) -> sa.ColumnElement[bool]:
        """The condition for the gate's ``fence``: writes only while this run owns the job."""
        return queue.fence(self.claim)

    def progress(self, percent: int) -> None:
        """Publish progress (``jobprocstatus``) at once, in its own short transaction."""
        with self._sessions() as session:
            queue.report_progress(session, self.claim, percent)
            session.commit()

    def cancelled(self) -> bool:
        """Whether cancelAsyncJob asked this run to stop (check at safe points)."""
        with self._sessions() as session:
            return queue.cancel_requested(session, self.claim)


def submit(session: Session, call: registry.Call) -> dict[str, Any]:
    """Prepare and queue an async command in the request's transaction; the answer body."""
    command = call.command
    holds.collect(session)  # rows ``prepare`` moves into transitional states: the job's
    instance = command.prepare(call) if command.prepare is not None else None
    scheduled = audit.record(call, None, state=events.State.SCHEDULED)
    uuid = instance.uuid if instance is not None else call.get("id")
    job = queue.submit(
        session,
        queue.Submission(
            user_id=call.who.user_id,
            account_id=call.who.account_id,
            command=command.name,
            parameters={"params": _stored(call), "instance": uuid, "event": scheduled},
            instance_type=instance.type if instance else command.instance_type,
            instance_id=instance.id if instance else None,
            queue_key=_queue_key(command, instance, uuid),
            more_keys=tuple(queue.key(*other) for other in instance.also) if instance else (),
        ),
    )
    holds.bind(session, job.id)
    holds.stop(session)
    body: dict[str, Any] = {"jobid": job.uuid}
    if command.creates and instance is not None:
        body["id"] = instance.uuid
    return body


def _stored(call: registry.Call) -> list[tuple[str, str]]:
    pairs = call.request.pairs if call.request is not None else ()
    return [(name, value) for name, value in pairs if name.lower() not in _NOT_STORED]


def _queue_key(command: registry.Command, instance: Instance | None, uuid: Any) -> str | None:
    if instance is not None:
        return queue.key(instance.type, instance.id)
    if command.instance_type and uuid:
        return queue.key(command.instance_type, uuid)
    return None


class Runner:
    """Runs one claimed API-command job (the worker pool's ``execute``)."""

    def __init__(
        self,
        commands: registry.Registry,
        sessions: sessionmaker[Session],
        services: dict[str, Any] | None = None,
    ) -> None:
        self.commands = commands
        self.sessions = sessions
        self.services = {"registry": commands, **(services or {})}

    def __call__(self, claim: queue.Claim) -> None:
        failure = self._run(claim)
        if failure is not None:
            self._fail(claim, failure)

    def _run(self, claim: queue.Claim) -> errors.ApiError | None:
        """Run the handler and finish the job in one transaction; a lost race (deadlock,
        serialisation failure) runs it again, unless a checkpoint already committed part of
        the work (the reaper's recovery handles such a run, as after a crash)."""
        attempt = 1
        while True:
            contexts: list[JobContext] = []
            try:
                return self._once(claim, contexts)
            except Exception as exc:
                checkpointed = any(context.checkpointed for context in contexts)
                again = transactions.conflict(exc) and not checkpointed
                if not again or attempt >= transactions.ATTEMPTS:
                    return _as_api_error(exc)
            transactions.pause(attempt)
            attempt += 1

    def _once(self, claim: queue.Claim, contexts: list[JobContext]) -> errors.ApiError | None:
        with self.sessions() as session:
            holds.act_for(session, claim.job_id)
            try:
                call = self._call(session, claim)
                contexts.append(call.job)
                reply = call.command.handler(call)
                audit.record(call, None, start_id=self._info(session, claim).get("event") or 0)
                queue.finish(session, claim, queue.Status.SUCCEEDED, 0, responses.content(reply))
                session.commit()
                return None
            except queue.LeaseLost:
                session.rollback()
                log.warning("job %d attempt %d lost its lease; its work was undone", *_ids(claim))
                return None
            except Exception:
                session.rollback()
                raise

    def _fail(self, claim: queue.Claim, failure: errors.ApiError) -> None:
        """Finish the job as failed and recover its resource (run again after a lost race)."""

        def work(session: Session) -> None:
            job = session.get_one(queue.Job, claim.job_id)
            held = list(holds.held_by(session, claim.job_id))
            if job.instance_type and job.instance_id:
                held.append((job.instance_type, job.instance_id))
            body = {"errorcode": int(failure.code), "errortext": failure.text}
            queue.finish(session, claim, queue.Status.FAILED, int(failure.code), body)
            reaper.recover_held(session, held)
            self._record_failure(session, claim, failure)

        with contextlib.suppress(queue.LeaseLost):  # another run owns the job now
            transactions.run(self.sessions, work, name=f"job {claim.job_id}")

    def _record_failure(
        self, session: Session, claim: queue.Claim, failure: errors.ApiError
    ) -> None:
        try:
            call = self._call(session, claim)
        except Exception:
            return
        audit.record(call, failure, start_id=self._info(session, claim).get("event") or 0)

    def _info(self, session: Session, claim: queue.Claim) -> dict[str, Any]:
        job = session.get_one(queue.Job, claim.job_id)
        info: dict[str, Any] = json.loads(job.job_cmd_info or "{}")
        return info

    def _call(self, session: Session, claim: queue.Claim) -> registry.Call:
        job = session.get_one(queue.Job, claim.job_id)
        command = self.commands.get(job.job_cmd or "")
        if command is None:
            raise errors.ApiError(
                errors.ErrorCode.INTERNAL_ERROR, f"This server has no command {job.job_cmd}"
            )
        pairs = [tuple(pair) for pair in self._info(session, claim).get("params", [])]
        plain, maps = params.collect(pairs)
        caller = access.caller_of(session, session.get_one(account_models.User, job.user_id))
        return registry.Call(
            session=session,
            caller=caller,
            args=params.parse_all(command.name, command.params, plain, maps),
            command=command,
            now=base.utcnow(),
            services=self.services,
            job=JobContext(claim, self.sessions, session),
        )


def _as_api_error(exc: Exception) -> errors.ApiError:
    error = errors.from_exception(exc)
    if error.cs_code == errors.CsErrorCode.CLOUD_RUNTIME:
        log.error("job failed unexpectedly", exc_info=exc)
    return error


def _ids(claim: queue.Claim) -> tuple[int, int]:
    return claim.job_id, claim.attempt


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
#: A checkpoint renews the lease by this much; the worker's heartbeat keeps renewing it.
_CHECKPOINT_LEASE = datetime.timedelta(seconds=60)


def fields(job: queue.Job, user_uuid: str, account_uuid: str) -> dict[str, Any]:
    """queryAsyncJobResult's fields for ``job`` (listAsyncJobs items are the same).

    A cancelled job (status 3 in the table) is shown as failed (2) with its reason: clients
    know only 0, 1 and 2, and some treat anything but 2 as success.
    """
    info = json.loads(job.job_cmd_info or "{}")
    finished = job.job_status != queue.Status.IN_PROGRESS
    status = queue.Status.FAILED if job.job_status == queue.Status.CANCELLED else job.job_status
    content: dict[str, Any] = {
        "jobid": job.uuid,
        "accountid": account_uuid,
        "userid": user_uuid,
        "cmd": job.job_cmd,
        "jobstatus": int(status),
        "jobprocstatus": job.job_process_status,
        "jobresultcode": job.job_result_code,
        "jobinstancetype": job.instance_type or "None",
        "jobinstanceid": info.get("instance"),
        "created": responses.date(job.created),
        "completed": responses.date(job.removed) if finished else None,
    }
    if finished:
        content["jobresulttype"] = "object"
        content["jobresult"] = json.loads(job.job_result or "{}")
    return responses.compact(content)
