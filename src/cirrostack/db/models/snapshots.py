"""Volume snapshots, where their bits live, and recurring snapshot policies.

The snapshot's state column is ``status`` (CloudStack's name). Where the bits are is each
``snapshot_store_ref`` row: ``store_id`` is a storage pool id when ``store_role`` is Primary and
an image store id otherwise, so it carries no foreign key.
"""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class Snapshot(base.Base, base.Entity):
    """A point-in-time copy of a volume; ``size`` is the volume's virtual size in bytes.

    ``snapshot_type`` is the ordinal of Snapshot.Type (0 MANUAL, 3 HOURLY, ...), with its name in
    ``type_description``.
    """

    __tablename__ = "snapshots"

    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    volume_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("volumes.id"), index=True)
    disk_offering_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("disk_offering.id"))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    # cirrostack addition: CloudStack updates snapshots.status blindly (last writer wins); we
    # put it behind the same compare-and-swap gate as every other state machine.
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    snapshot_type: Mapped[int] = mapped_column(Integer)
    type_description: Mapped[str | None] = mapped_column(String(25))
    location_type: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    min_iops: Mapped[int | None] = mapped_column(BigInteger)
    max_iops: Mapped[int | None] = mapped_column(BigInteger)
    hypervisor_type: Mapped[str] = mapped_column(String(32))
    version: Mapped[str | None] = mapped_column(String(32), default="2.2")


class SnapshotStoreRef(base.Base, base.IdMixin, base.CreatedMixin):
    """A snapshot's copy on a pool (Primary) or image store (Image, ImageCache).

    ``parent_snapshot_id`` links a delta to its parent (0 for a full copy); ``size`` is the
    virtual size, ``physical_size`` the bytes used on the store.
    """

    __tablename__ = "snapshot_store_ref"
    __table_args__ = (Index(None, "store_id", "store_role"),)

    store_id: Mapped[int] = mapped_column(base.BigId)
    store_role: Mapped[str] = mapped_column(String(255))
    snapshot_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("snapshots.id", ondelete="CASCADE"), index=True
    )
    volume_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("volumes.id"), index=True)
    parent_snapshot_id: Mapped[int] = mapped_column(base.BigId, default=0)
    size: Mapped[int | None] = mapped_column(BigInteger)
    physical_size: Mapped[int] = mapped_column(BigInteger, default=0)
    install_path: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[str | None] = mapped_column(String(255))
    download_url: Mapped[str | None] = mapped_column(String(2048))
    download_url_created: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    download_pct: Mapped[int | None] = mapped_column(Integer)
    download_state: Mapped[str | None] = mapped_column(String(255))
    local_path: Mapped[str | None] = mapped_column(String(255))
    error_str: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    ref_cnt: Mapped[int] = mapped_column(BigInteger, default=0)
    display: Mapped[bool] = mapped_column(Boolean, default=True)
    last_updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())


class SnapshotPolicy(base.Base, base.IdMixin, base.UuidMixin):
    """A recurring snapshot schedule for a volume.

    ``interval`` is 0 HOURLY, 1 DAILY, 2 WEEKLY, 3 MONTHLY (4, CloudStack's default, is MANUAL);
    ``schedule`` is the minute / time / day string interpreted in ``timezone``.
    """

    __tablename__ = "snapshot_policy"

    volume_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("volumes.id", ondelete="CASCADE"), index=True
    )
    schedule: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(100))
    interval: Mapped[int] = mapped_column(Integer, default=4)
    max_snaps: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    display: Mapped[bool] = mapped_column(Boolean, default=True)
