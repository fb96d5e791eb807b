"""queryAsyncJobResult, listAsyncJobs and cancelAsyncJob (a cirrostack addition).

A job is visible to its submitter's account and to the admins above it; someone else's job
id is answered like an unknown one (ids are not an oracle).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import access, scope
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import jobs as models
from cirrostack.jobs import queue

_JOINED = (
    sa.select(models.AsyncJob, account_models.User, account_models.Account, account_models.Domain)
    .join(account_models.User, account_models.User.id == models.AsyncJob.user_id)
    .join(account_models.Account, account_models.Account.id == models.AsyncJob.account_id)
    .join(account_models.Domain, account_models.Domain.id == account_models.Account.domain_id)
)


def _visible_job(call: registry.Call) -> Any:
    """The job row named by ``jobid`` with its owners, if the caller may see it."""
    row = call.session.execute(_JOINED.where(models.AsyncJob.uuid == call.get("jobid"))).first()
    unknown = errors.InvalidParameterValue(f"Unable to find a job by jobid {call.get('jobid')}")
    if row is None:
        raise unknown
    try:
        access.check_account(call.who, row[2], row[3])
    except errors.PermissionDenied:
        raise unknown from None
    return row


def query_async_job_result(call: registry.Call) -> responses.Reply:
    job, user, account, _ = _visible_job(call)
    return responses.Fields(jobs.fields(job, user.uuid, account.uuid))


def list_async_jobs(call: registry.Call) -> responses.Reply:
    wanted = scope.Wanted(
        domain=domain_arg(call),
        account_name=call.get("account"),
        listall=call.get("listall", False),
        isrecursive=call.get("isrecursive", False),
    )
    statement = _JOINED.where(
        scope.condition(call.session, call.who, wanted, models.AsyncJob.account_id)
    )
    if call.get("startdate") is not None:
        statement = statement.where(models.AsyncJob.created >= call.get("startdate"))
    if call.get("keyword"):
        statement = statement.where(
            query.matches_keyword(models.AsyncJob.job_cmd, call.get("keyword"))
        )
    page = paging.page(call)
    total = call.session.execute(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    rows: Sequence[Any] = call.session.execute(
        statement.order_by(models.AsyncJob.id.desc()).offset(page.offset).limit(page.limit)
    ).all()
    items = [jobs.fields(job, user.uuid, account.uuid) for job, user, account, _ in rows]
    return responses.Listing("asyncjobs", items, int(total))


def cancel_async_job(call: registry.Call) -> responses.Reply:
    job, user, account, _ = _visible_job(call)
    queue.cancel(call.session, job, call.who.username)
    call.session.refresh(job)
    return responses.Fields(jobs.fields(job, user.uuid, account.uuid))


_JOB_FIELDS = registry.ObjectSpec(
    "asyncjobs",
    tuple(
        registry.Field(name, kind, text)
        for name, kind, text in (
            ("jobid", "string", "the ID of the async job"),
            ("accountid", "string", "the account that executed the async command"),
            ("userid", "string", "the user that executed the async command"),
            ("cmd", "string", "the async command executed"),
            ("jobstatus", "integer", "0 pending, 1 succeeded, 2 failed (cancelled jobs too)"),
            ("jobprocstatus", "integer", "the progress of the job, 0 to 100"),
            ("jobresultcode", "integer", "0 on success, else the error code"),
            ("jobresulttype", "string", "the result type"),
            ("jobresult", "responseobject", "the result of the job, once it is finished"),
            ("jobinstancetype", "string", "the type of the resource the job acts on"),
            ("jobinstanceid", "string", "the ID of the resource the job acts on"),
            ("created", "date", "the created date of the job"),
            ("completed", "date", "the completed date of the job"),
        )
    ),
)
_JOBID = P(
    "jobid",
    T.UUID,
    "the ID of the asynchronous job",
    required=True,
    related=("queryAsyncJobResult",),
)

COMMANDS = (
    registry.Command(
        "queryAsyncJobResult",
        query_async_job_result,
        "Retrieves the current status of asynchronous job.",
        (_JOBID,),
        _JOB_FIELDS,
    ),
    registry.Command(
        "listAsyncJobs",
        list_async_jobs,
        "Lists all pending asynchronous jobs for the account.",
        (
            P("account", T.STRING, "list jobs of this account (with domainid)"),
            P("domainid", T.UUID, "list jobs of this domain", related=("listDomains",)),
            P("startdate", T.DATE, "the start date of the async job (yyyy-MM-dd)"),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        _JOB_FIELDS,
    ),
    registry.Command(
        "cancelAsyncJob",
        cancel_async_job,
        "Cancels an asynchronous job (cirrostack): a pending job ends at once as failed with "
        "'cancelled'; a running one is asked to stop at its next safe point.",
        (_JOBID,),
        _JOB_FIELDS,
        event="ASYNC.JOB.CANCEL",
    ),
)
