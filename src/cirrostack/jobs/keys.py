"""Queue keys: which resources a job locks, so that jobs on one resource run one at a time.

Called by ``jobs.queue`` only: at submit (``add``), in the claim query (``blocked``), when a
claim is taken (``take``) and whenever a job stops running (``free``: finish, expiry, release,
failure). A key is ``<resource type>:<id>`` (``key``; the type is a binding's
``resource_type``); a job has one row per key in ``async_job_queue_key``.

A job is blocked while an earlier unfinished job or any running job shares one of its keys.
The second half matters because ids are handed out before commit: an earlier job may become
visible after a later one was claimed. Two claimers that cannot see each other's uncommitted
claim are settled by the unique ``running_key`` (the key while the job runs, else NULL): the
second one's write waits on the index, then fails, and ``take`` answers False.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import jobs as models

Key = models.AsyncJobKey
#: ``async_job.job_status`` of an unfinished job (``queue.Status.IN_PROGRESS``).
_IN_PROGRESS = 0


def key(resource_type: str, resource_id: object) -> str:
    """The queue key of one resource (a binding's ``resource_type`` and the row's id)."""
    return f"{resource_type}:{resource_id}"


def add(session: Session, job_id: int, names: Iterable[str]) -> None:
    """The new job ``job_id`` locks ``names`` (in the submit's transaction)."""
    session.add_all(Key(job_id=job_id, queue_key=name) for name in names)


def blocked(job_id: Any) -> sa.Exists:
    """SQL: another unfinished job, earlier or running, shares one of the keys of the job whose
    id is the column ``job_id`` (correlated: the claim's candidate row)."""
    other = sa.table("async_job", sa.column("id"), sa.column("job_status")).alias("other")
    mine = cast(sa.Table, Key.__table__).alias("mine")
    theirs = cast(sa.Table, Key.__table__).alias("theirs")
    return (
        sa.select(other.c.id)
        .select_from(mine)
        .join(theirs, theirs.c.queue_key == mine.c.queue_key)
        .join(other, other.c.id == theirs.c.job_id)
        .where(
            mine.c.job_id == job_id,
            other.c.id != job_id,
            other.c.job_status == _IN_PROGRESS,
            sa.or_(other.c.id < job_id, theirs.c.running_key.is_not(None)),
        )
        .exists()
    )


def take(session: Session, job_id: int) -> bool:
    """Mark ``job_id``'s keys running; False (nothing written) when a running job has one."""
    try:
        with session.begin_nested():
            session.execute(
                sa.update(Key).where(Key.job_id == job_id).values(running_key=Key.queue_key)
            )
    except sa.exc.IntegrityError:
        return False
    return True


def free(session: Session, job_ids: Sequence[int] | sa.Select[Any]) -> None:
    """The jobs no longer run: their keys are free for the next claims. A list of ids (every
    finish) runs one prebuilt statement."""
    if isinstance(job_ids, sa.Select):
        session.execute(
            sa.update(Key)
            .where(Key.job_id.in_(job_ids), Key.running_key.is_not(None))
            .values(running_key=None)
        )
    elif job_ids:
        session.execute(_FREE, {"f_jobs": list(job_ids)})


_FREE = (
    sa.update(Key)
    .where(Key.job_id.in_(sa.bindparam("f_jobs", expanding=True)), Key.running_key.is_not(None))
    .values(running_key=None)
)
