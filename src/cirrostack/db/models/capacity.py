"""Capacity bookkeeping per host, pool, pod or zone (``op_host_capacity``).

``capacity_type`` is CloudStack's number: 0 MEMORY (bytes), 1 CPU (MHz), 2 STORAGE and
3 STORAGE_ALLOCATED (bytes, per pool), 4 public IPs, 5 private IPs, 6 secondary storage, 7 VLANs,
8 direct-attached IPs, 9 local storage, 10 IPv6 subnets, 19 GPU, 90 CPU cores. ``host_id`` holds a
host id for host types and a storage pool id for 2, 3 and 9, so it has no foreign key. There is
one row per (resource, type) (migration 0009): a claim is one conditional UPDATE of that row.
"""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class HostCapacity(base.Base, base.IdMixin, base.CreatedMixin):
    """Used, reserved and total amounts of one capacity type on one host, pool, pod or zone."""

    __tablename__ = "op_host_capacity"
    __table_args__ = (
        Index("uq_op_host_capacity_host_id_capacity_type", "host_id", "capacity_type", unique=True),
    )

    host_id: Mapped[int | None] = mapped_column(base.BigId)
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    pod_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("host_pod_ref.id"), index=True
    )
    cluster_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("cluster.id"), index=True)
    used_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    total_capacity: Mapped[int] = mapped_column(BigInteger)
    capacity_type: Mapped[int] = mapped_column(Integer)
    capacity_state: Mapped[str] = mapped_column(String(32), default="Enabled")
    update_time: Mapped[datetime.datetime | None] = mapped_column(DateTime())
