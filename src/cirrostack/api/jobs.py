"""Async commands as CloudStack answers them: a job id now, the result through polling.

Until the job engine exists (issue 3) an async command runs to completion inside the request,
and its outcome is recorded as a finished ``async_job`` row; the client gets ``{"jobid": ...}``
and polls ``queryAsyncJobResult`` exactly as it would against CloudStack. Parameter errors are
answered before any job exists (431), as in CloudStack; failures while running become a failed
job (jobstatus 2) with the error code and text in ``jobresult``.
"""

from __future__ import annotations

import enum
import json
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.accounts import access
from cirrostack.api import errors, registry, responses
from cirrostack.db import base
from cirrostack.db.models import jobs as models

#: Parameters whose values never reach the job record (it is readable by the caller's admins).
_SECRET_PARAMS = frozenset({"password", "secretkey", "usersecretkey", "signature", "sessionkey"})


class JobStatus(enum.IntEnum):
    """``async_job.job_status`` ordinals."""

    IN_PROGRESS = 0
    SUCCEEDED = 1
    FAILED = 2
    CANCELLED = 3


def record(
    session: Session,
    caller: access.Caller,
    command: registry.Command,
    call_args: dict[str, Any],
    outcome: responses.Reply | errors.ApiError,
) -> models.AsyncJob:
    """Insert the finished job for one run of an async command."""
    now = base.utcnow()
    failed = isinstance(outcome, errors.ApiError)
    result = (
        {"errorcode": int(outcome.code), "errortext": outcome.text}
        if isinstance(outcome, errors.ApiError)
        else responses.content(outcome)
    )
    job = models.AsyncJob(
        user_id=caller.user_id,
        account_id=caller.account_id,
        instance_type=command.instance_type,
        job_cmd=command.name,
        job_cmd_info=json.dumps(_public_args(call_args), default=str),
        job_status=int(JobStatus.FAILED if failed else JobStatus.SUCCEEDED),
        job_result_code=int(outcome.code) if isinstance(outcome, errors.ApiError) else 0,
        job_result=json.dumps(result),
        last_updated=now,
        removed=now,
    )
    session.add(job)
    session.flush()
    return job


def _public_args(args: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in args.items() if name.lower() not in _SECRET_PARAMS}


def fields(job: models.AsyncJob, user_uuid: str, account_uuid: str) -> dict[str, Any]:
    """queryAsyncJobResult's fields for ``job`` (listAsyncJobs items are the same)."""
    info = json.loads(job.job_cmd_info or "{}")
    content: dict[str, Any] = {
        "jobid": job.uuid,
        "accountid": account_uuid,
        "userid": user_uuid,
        "cmd": job.job_cmd,
        "jobstatus": job.job_status,
        "jobprocstatus": job.job_process_status,
        "jobresultcode": job.job_result_code,
        "jobinstancetype": job.instance_type or "None",
        "jobinstanceid": info.get("id"),
        "created": responses.date(job.created),
        "completed": responses.date(job.removed),
    }
    if job.job_status != JobStatus.IN_PROGRESS:
        content["jobresulttype"] = "object"
        content["jobresult"] = json.loads(job.job_result or "{}")
    return responses.compact(content)
