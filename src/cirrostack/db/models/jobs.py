"""Asynchronous API jobs, with CloudStack's columns.

``job_status`` is an ordinal: 0 IN_PROGRESS, 1 SUCCEEDED, 2 FAILED, 3 CANCELLED. ``job_result``
holds the serialized response (or ``{errorcode, errortext}``) and ``job_result_code`` 0 on
success or the error code (530 by default). ``removed`` is the completion time, which the API
shows as ``completed``; finished jobs are purged after ``job.expire.minutes``.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class AsyncJob(base.Base, base.Entity):
    """One submitted command: who, what (``job_cmd``, ``job_cmd_info``), on which resource
    (``instance_type``/``instance_id``), and how it went."""

    __tablename__ = "async_job"
    __table_args__ = (
        Index(None, "instance_type", "instance_id"),
        Index(None, "job_status", "queue_key"),
        Index(None, "job_status", "lease_expires"),
    )

    user_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("user.id"), index=True)
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    instance_type: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(base.BigId)
    job_cmd: Mapped[str | None] = mapped_column(String(255))
    job_cmd_info: Mapped[str | None] = mapped_column(Text)
    job_cmd_ver: Mapped[int | None] = mapped_column(Integer)
    job_type: Mapped[str | None] = mapped_column(String(32))
    job_dispatcher: Mapped[str | None] = mapped_column(String(64))
    job_status: Mapped[int] = mapped_column(Integer, default=0, index=True)
    job_process_status: Mapped[int] = mapped_column(Integer, default=0)
    job_result_code: Mapped[int] = mapped_column(Integer, default=0)
    job_result: Mapped[str | None] = mapped_column(Text)
    job_pending_signals: Mapped[int] = mapped_column(Integer, default=0)
    related: Mapped[str | None] = mapped_column(String(255))
    job_init_msid: Mapped[int | None] = mapped_column(BigInteger)
    job_executing_msid: Mapped[int | None] = mapped_column(BigInteger)
    job_complete_msid: Mapped[int | None] = mapped_column(BigInteger)
    last_updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    last_polled: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    # cirrostack additions for the job engine (migration 0003): jobs with the same queue key
    # run one at a time in submission order; ``attempt`` counts claims and fences every write
    # of a run; ``lease_expires`` (database time) is when a silent owner loses the job.
    queue_key: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_expires: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    # Migration 0007: when the run last showed activity (database time; a step, a checkpoint,
    # agent progress): the heartbeat renews the lease only while it is recent. ``on_lost`` is
    # the command's retry policy for a run that lost its lease: "rerun" or "recover".
    last_activity: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    on_lost: Mapped[str] = mapped_column(String(16), default="rerun", server_default="rerun")


class AsyncJobResource(base.Base, base.IdMixin):
    """A row a job holds: the gate wrote it when it moved the row into a transitional state
    for the job, in the same transaction, and deletes it when the row leaves that state or the
    job finishes. One job at a time holds a row, whichever of its state columns it moved
    (unique resource_type, resource_id): every row here is held."""

    __tablename__ = "async_job_resource"
    __table_args__ = (UniqueConstraint("resource_type", "resource_id"),)

    job_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("async_job.id", ondelete="CASCADE"), index=True
    )
    #: The binding's ``resource_type`` (states.bindings), never a hand-typed name.
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int] = mapped_column(base.BigId)
    #: The state column the job moved (a host has two): leaving its transitional state releases.
    state_column: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime.datetime] = mapped_column(DateTime(), default=base.utcnow)


class AsyncJobKey(base.Base):
    """A queue key of a job (attach locks the volume and the VM). ``running_key`` is the key
    while the job runs, else NULL: its unique index lets only one running job hold a key on
    every backend, whatever two claimers saw (NULLs never collide)."""

    __tablename__ = "async_job_queue_key"
    __table_args__ = (PrimaryKeyConstraint("job_id", "queue_key"),)

    job_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("async_job.id", ondelete="CASCADE"))
    queue_key: Mapped[str] = mapped_column(String(255), index=True)
    running_key: Mapped[str | None] = mapped_column(String(255), unique=True)
