"""What users choose from: disk offerings and compute (service) offerings, with their details.

Since CloudStack 4.17 a service offering is its own row pointing at the disk offering that
describes its root disk (``disk_offering_id``); ``disk_offering.compute_only`` marks such hidden
root-disk offerings. Domain and zone restrictions live in the details tables (``domainid``,
``zoneid``), as do the ranges of custom offerings (``mincpunumber``, ``maxmemory``, ...).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class DiskOffering(base.Base, base.Entity):
    """A disk size, storage tags and I/O limits; ``disk_size`` is in bytes, 0 when custom."""

    __tablename__ = "disk_offering"

    name: Mapped[str] = mapped_column(String(255))
    unique_name: Mapped[str | None] = mapped_column(String(32), unique=True)
    display_text: Mapped[str | None] = mapped_column(String(4096))
    disk_size: Mapped[int] = mapped_column(BigInteger, default=0)
    tags: Mapped[str | None] = mapped_column(String(4096))
    customized: Mapped[bool] = mapped_column(Boolean, default=False)
    customized_iops: Mapped[bool | None] = mapped_column(Boolean)
    min_iops: Mapped[int | None] = mapped_column(BigInteger)
    max_iops: Mapped[int | None] = mapped_column(BigInteger)
    use_local_storage: Mapped[bool] = mapped_column(Boolean, default=False)
    recreatable: Mapped[bool] = mapped_column(Boolean, default=False)
    compute_only: Mapped[bool] = mapped_column(Boolean, default=False)
    provisioning_type: Mapped[str] = mapped_column(String(32), default="thin")
    cache_mode: Mapped[str | None] = mapped_column(String(16))
    bytes_read_rate: Mapped[int | None] = mapped_column(BigInteger)
    bytes_read_rate_max: Mapped[int | None] = mapped_column(BigInteger)
    bytes_read_rate_max_length: Mapped[int | None] = mapped_column(BigInteger)
    bytes_write_rate: Mapped[int | None] = mapped_column(BigInteger)
    bytes_write_rate_max: Mapped[int | None] = mapped_column(BigInteger)
    bytes_write_rate_max_length: Mapped[int | None] = mapped_column(BigInteger)
    iops_read_rate: Mapped[int | None] = mapped_column(BigInteger)
    iops_read_rate_max: Mapped[int | None] = mapped_column(BigInteger)
    iops_read_rate_max_length: Mapped[int | None] = mapped_column(BigInteger)
    iops_write_rate: Mapped[int | None] = mapped_column(BigInteger)
    iops_write_rate_max: Mapped[int | None] = mapped_column(BigInteger)
    iops_write_rate_max_length: Mapped[int | None] = mapped_column(BigInteger)
    hv_ss_reserve: Mapped[int | None] = mapped_column(Integer)
    display_offering: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(32), default="Active", index=True)
    disk_size_strictness: Mapped[bool] = mapped_column(Boolean, default=False)
    encrypt: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_key: Mapped[int] = mapped_column(Integer, default=0)


class DiskOfferingDetail(base.Base, base.IdMixin):
    """A disk offering attribute, e.g. ``domainid`` / ``zoneid`` (comma-separated ids)."""

    __tablename__ = "disk_offering_details"

    offering_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("disk_offering.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(1024))
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceOffering(base.Base, base.Entity):
    """CPU cores, MHz per core and RAM in MB (all NULL for a fully custom offering)."""

    __tablename__ = "service_offering"

    name: Mapped[str] = mapped_column(String(255))
    unique_name: Mapped[str | None] = mapped_column(String(32), unique=True)
    display_text: Mapped[str | None] = mapped_column(String(4096))
    cpu: Mapped[int | None] = mapped_column(Integer)
    speed: Mapped[int | None] = mapped_column(Integer)
    ram_size: Mapped[int | None] = mapped_column(Integer)
    nw_rate: Mapped[int | None] = mapped_column(Integer, default=200)
    mc_rate: Mapped[int | None] = mapped_column(Integer, default=10)
    ha_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    limit_cpu_use: Mapped[bool] = mapped_column(Boolean, default=False)
    is_volatile: Mapped[bool] = mapped_column(Boolean, default=False)
    host_tag: Mapped[str | None] = mapped_column(String(255))
    default_use: Mapped[bool] = mapped_column(Boolean, default=False)
    vm_type: Mapped[str | None] = mapped_column(String(32))
    system_use: Mapped[bool] = mapped_column(Boolean, default=False)
    customized: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(32), default="Active", index=True)
    disk_offering_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("disk_offering.id", ondelete="CASCADE"), index=True
    )
    disk_offering_strictness: Mapped[bool] = mapped_column(Boolean, default=False)
    dynamic_scaling_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    deployment_planner: Mapped[str | None] = mapped_column(String(255))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)


class ServiceOfferingDetail(base.Base, base.IdMixin):
    """A service offering attribute: custom ranges, GPU, domain/zone restrictions, ..."""

    __tablename__ = "service_offering_details"

    # Named by hand: the conventional name is 64 characters, one past PostgreSQL's limit.
    service_offering_id: Mapped[int] = mapped_column(
        base.BigId,
        ForeignKey(
            "service_offering.id",
            ondelete="CASCADE",
            name="fk_service_offering_details_service_offering",
        ),
        index=True,
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(1024))
    display: Mapped[bool] = mapped_column(Boolean, default=True)
