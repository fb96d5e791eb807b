"""Metered usage records (``cloud_usage``) as the usage server aggregates them.

CloudStack keeps this table in a separate ``cloud_usage`` schema; cirrostack keeps it in the
one database (no cross-database setup on SQLite). ``usage_type`` is CloudStack's number (1
RUNNING_VM, 2 ALLOCATED_VM, 3 IP_ADDRESS, 6 VOLUME, 7 TEMPLATE, 8 ISO, 9 SNAPSHOT, ...);
``raw_usage`` is hours (bytes for network and disk I/O types).
"""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class CloudUsage(base.Base, base.IdMixin):
    """Usage of one resource by one account over [``start_date``, ``end_date``)."""

    __tablename__ = "cloud_usage"
    __table_args__ = (Index(None, "start_date", "end_date"),)

    zone_id: Mapped[int] = mapped_column(base.BigId)
    account_id: Mapped[int] = mapped_column(base.BigId, index=True)
    domain_id: Mapped[int] = mapped_column(base.BigId, index=True)
    description: Mapped[str] = mapped_column(String(1024))
    usage_display: Mapped[str] = mapped_column(String(255))
    usage_type: Mapped[int | None] = mapped_column(Integer, index=True)
    raw_usage: Mapped[float] = mapped_column(Double)
    vm_instance_id: Mapped[int | None] = mapped_column(base.BigId)
    vm_name: Mapped[str | None] = mapped_column(String(255))
    cpu_cores: Mapped[int | None] = mapped_column(BigInteger)
    cpu_speed: Mapped[int | None] = mapped_column(BigInteger)
    memory: Mapped[int | None] = mapped_column(BigInteger)
    offering_id: Mapped[int | None] = mapped_column(base.BigId)
    template_id: Mapped[int | None] = mapped_column(base.BigId)
    usage_id: Mapped[int | None] = mapped_column(base.BigId)
    type: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int | None] = mapped_column(BigInteger)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    network_id: Mapped[int | None] = mapped_column(base.BigId)
    start_date: Mapped[datetime.datetime] = mapped_column(DateTime())
    end_date: Mapped[datetime.datetime] = mapped_column(DateTime())
    quota_calculated: Mapped[bool] = mapped_column(Boolean, default=False)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
