"""Async API commands as jobs: what is about the API, around the engine in ``jobs/``.

At the request (``submit``), in the request's transaction: the parameters are checked (431
before any job exists, as in CloudStack), the command's ``prepare`` moves the resource into its
transitional state (held by the job: ``states.holds``), and the job row is inserted with its
queue keys and retry policy, all or nothing. The answer is ``{"jobid": ...}`` (plus ``"id"``
for create-type commands).

In a worker, ``jobs.runner.Runner`` runs the job with ``CommandBody``: the handler, with the
stored parameters and the submitter as caller, its answer the job's result. ``fields`` is the
job as queryAsyncJobResult and listAsyncJobs show it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cirrostack import events
from cirrostack.accounts import access
from cirrostack.api import audit, errors, params, registry, responses
from cirrostack.db import base
from cirrostack.db.models import accounts as account_models
from cirrostack.jobs import context, queue, runner
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


def submit(session: Session, call: registry.Call) -> dict[str, Any]:
    """Prepare and queue an async command in the request's transaction; the answer body."""
    command = call.command
    holds.collect(session)  # rows ``prepare`` moves into transitional states: the job's
    try:
        instance = command.prepare(call) if command.prepare is not None else None
        job = _queue(session, call, instance)
        holds.bind(session, job.id)
    finally:
        holds.stop(session)
    body: dict[str, Any] = {"jobid": job.uuid}
    if command.creates and instance is not None:
        body["id"] = instance.uuid
    return body


def start(
    session: Session,
    call: registry.Call,
    command: registry.Command,
    pairs: Sequence[tuple[str, str]],
    instance: Instance,
) -> queue.Job:
    """Queue a job of the internal ``command`` (a job body no role may call from the API) for
    ``call``'s caller, in ``call``'s transaction, so the job exists exactly when what it works
    on does; ``pairs`` are its parameters. The job owns ``instance`` (the reaper leaves it
    alone while the job is unfinished) and locks its key and ``instance.also``'s.

    Called by the handler of a synchronous command that declares ``starts_jobs`` (the
    dispatcher hands the jobs to the workers once the transaction commits) or by a job."""
    if not command.internal or not command.is_async:
        raise ValueError(f"{command.name} is not an internal job command")
    return queue.submit(
        session,
        queue.Submission(
            user_id=call.who.user_id,
            account_id=call.who.account_id,
            command=command.name,
            parameters={"params": [list(pair) for pair in pairs], "instance": instance.uuid},
            instance_type=instance.type,
            instance_id=instance.id,
            queue_key=queue.key(instance.type, instance.id),
            more_keys=tuple(queue.key(*other) for other in instance.also),
            on_lost=command.on_lost,
        ),
    )


def _queue(session: Session, call: registry.Call, instance: Instance | None) -> queue.Job:
    command = call.command
    scheduled = audit.record(call, None, state=events.State.SCHEDULED)
    uuid = instance.uuid if instance is not None else call.get("id")
    return queue.submit(
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
            on_lost=command.on_lost,
        ),
    )


def _stored(call: registry.Call) -> list[tuple[str, str]]:
    pairs = call.request.pairs if call.request is not None else ()
    return [(name, value) for name, value in pairs if name.lower() not in _NOT_STORED]


def _queue_key(command: registry.Command, instance: Instance | None, uuid: Any) -> str | None:
    if instance is not None:
        return queue.key(instance.type, instance.id)
    if command.instance_type and uuid:
        return queue.key(command.instance_type, uuid)
    return None


class CommandBody:
    """An API command as a job's body (``jobs.runner.Body``): the handler runs with the
    stored parameters and the submitter as caller; its answer is the job's result."""

    def __init__(
        self,
        commands: registry.Registry,
        services: registry.Services,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.commands = commands
        self.services = dataclasses.replace(
            services, registry=commands, sessions=sessions or services.sessions
        )

    def run(self, session: Session, claim: queue.Claim, job: context.JobContext) -> Any:
        call = self._call(session, claim, job)
        reply = call.command.handler(call)
        audit.record(call, None, start_id=_info(session, claim).get("event") or 0)
        return responses.content(reply)

    def failure_of(self, exc: Exception) -> runner.Failure:
        error = errors.from_exception(exc)
        if error.cs_code == errors.CsErrorCode.CLOUD_RUNTIME:
            log.error("job failed unexpectedly", exc_info=exc)
        return runner.Failure(int(error.code), error.text)

    def failed(self, session: Session, claim: queue.Claim, failure: runner.Failure) -> None:
        try:
            call = self._call(session, claim, None)
        except Exception:
            return
        error = errors.ApiError(errors.ErrorCode(failure.code), failure.text)
        audit.record(call, error, start_id=_info(session, claim).get("event") or 0)

    def _call(
        self, session: Session, claim: queue.Claim, job: context.JobContext | None
    ) -> registry.Call:
        stored = session.get_one(queue.Job, claim.job_id)
        command = self.commands.get(stored.job_cmd or "")
        if command is None:
            raise errors.ApiError(
                errors.ErrorCode.INTERNAL_ERROR, f"This server has no command {stored.job_cmd}"
            )
        pairs = [tuple(pair) for pair in _info(session, claim).get("params", [])]
        plain, maps = params.collect(pairs)
        caller = access.caller_of(session, session.get_one(account_models.User, stored.user_id))
        return registry.Call(
            session=session,
            caller=caller,
            args=params.parse_all(command.name, command.params, plain, maps),
            command=command,
            now=base.utcnow(),
            services=self.services,
            job=job,
            instance_id=stored.instance_id,
        )


def _info(session: Session, claim: queue.Claim) -> dict[str, Any]:
    job = session.get_one(queue.Job, claim.job_id)
    info: dict[str, Any] = json.loads(job.job_cmd_info or "{}")
    return info


def command_runner(
    commands: registry.Registry, sessions: sessionmaker[Session], services: registry.Services
) -> runner.Runner:
    """The worker pool's ``execute`` for API-command jobs (wired by the composition root)."""
    return runner.Runner(sessions, CommandBody(commands, services, sessions))


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
