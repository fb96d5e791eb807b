"""Asynchronous API jobs, with CloudStack's columns.

``job_status`` is an ordinal: 0 IN_PROGRESS, 1 SUCCEEDED, 2 FAILED, 3 CANCELLED. ``job_result``
holds the serialized response (or ``{errorcode, errortext}``) and ``job_result_code`` 0 on
success or the error code (530 by default). ``removed`` is the completion time, which the API
shows as ``completed``; finished jobs are purged after ``job.expire.minutes``.
"""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
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
