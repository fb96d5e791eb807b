"""queryAsyncJobResult: the outcome of an async command, for its caller and their admins."""

from __future__ import annotations

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.api import jobs, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import jobs as models


def query_async_job_result(call: registry.Call) -> responses.Reply:
    row = call.session.execute(
        sa.select(
            models.AsyncJob, account_models.User, account_models.Account, account_models.Domain
        )
        .join(account_models.User, account_models.User.id == models.AsyncJob.user_id)
        .join(account_models.Account, account_models.Account.id == models.AsyncJob.account_id)
        .join(account_models.Domain, account_models.Domain.id == account_models.Account.domain_id)
        .where(models.AsyncJob.uuid == call.get("jobid"))
    ).first()
    if row is None:
        raise errors.InvalidParameterValue(f"Unable to find a job by jobid {call.get('jobid')}")
    job, user, account, domain = row
    try:
        access.check_account(call.who, account, domain)
    except errors.PermissionDenied:
        # Someone else's job id is answered like an unknown one: ids are not an oracle.
        raise errors.InvalidParameterValue(
            f"Unable to find a job by jobid {call.get('jobid')}"
        ) from None
    return responses.Fields(jobs.fields(job, user.uuid, account.uuid))


COMMANDS = (
    registry.Command(
        "queryAsyncJobResult",
        query_async_job_result,
        "Retrieves the current status of asynchronous job.",
        (
            P(
                "jobid",
                T.UUID,
                "the ID of the asynchronous job",
                required=True,
                related=("queryAsyncJobResult",),
            ),
        ),
    ),
)
