"""Storage: primary pools (with details, tags and host connections), image stores, volumes.

``storage_pool.status`` has no state machine in CloudStack (lifecycle code sets it); volumes do:
``volumes.state`` changes only through the gate, a compare-and-swap on ``state`` and
``update_count`` that stamps ``updated``. Deleting a pool NULLs its ``uuid`` before the soft
delete, which is why that uuid is nullable.
"""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class StoragePool(base.Base, base.IdMixin, base.CreatedMixin, base.RemovedMixin):
    """A primary storage pool. ``scope`` is HOST, CLUSTER or ZONE; sizes are in bytes."""

    __tablename__ = "storage_pool"
    # The allocator's narrowing (``allocators.narrowing``, migration 0011).
    __table_args__ = (
        Index("ix_storage_pool_data_center_id_cluster_id", "data_center_id", "cluster_id"),
        Index("ix_storage_pool_data_center_id_pod_id", "data_center_id", "pod_id"),
    )

    uuid: Mapped[str | None] = mapped_column(
        String(255), unique=True, default=base.new_uuid, sort_order=-19
    )
    name: Mapped[str] = mapped_column(String(255))
    pool_type: Mapped[str] = mapped_column(String(32))
    host_address: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=0)
    user_info: Mapped[str | None] = mapped_column(String(255))
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    pod_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("host_pod_ref.id"), index=True
    )
    cluster_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("cluster.id"), index=True)
    scope: Mapped[str | None] = mapped_column(String(255))
    hypervisor: Mapped[str | None] = mapped_column(String(32))
    capacity_bytes: Mapped[int | None] = mapped_column(BigInteger)
    used_bytes: Mapped[int | None] = mapped_column(BigInteger)
    capacity_iops: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32), default="Initial", index=True)
    storage_provider_name: Mapped[str] = mapped_column(String(255), default="DefaultPrimary")
    managed: Mapped[bool] = mapped_column(Boolean, default=False)
    parent: Mapped[int] = mapped_column(base.BigId, default=0)
    update_time: Mapped[datetime.datetime | None] = mapped_column(DateTime())


class StoragePoolDetail(base.Base, base.IdMixin):
    """A driver detail or a pool-scoped setting (``storage.overprovisioning.factor``, ...)."""

    __tablename__ = "storage_pool_details"

    pool_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("storage_pool.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(8191))
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class StoragePoolHostRef(base.Base, base.IdMixin, base.CreatedMixin):
    """A host that has mounted or connected a pool, at ``local_path``."""

    __tablename__ = "storage_pool_host_ref"

    host_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("host.id", ondelete="CASCADE"), index=True
    )
    pool_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("storage_pool.id", ondelete="CASCADE"), index=True
    )
    local_path: Mapped[str | None] = mapped_column(String(255))
    last_updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())


class StoragePoolTag(base.Base, base.IdMixin):
    """A storage tag matched against disk offerings' ``tags`` (or a rule, if flagged)."""

    __tablename__ = "storage_pool_tags"

    pool_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("storage_pool.id", ondelete="CASCADE"), index=True
    )
    tag: Mapped[str] = mapped_column(String(255))
    is_tag_a_rule: Mapped[bool] = mapped_column(Boolean, default=False)


class ImageStore(base.Base, base.Entity):
    """Secondary storage (``role`` Image) or a staging cache (ImageCache); zone-less = region."""

    __tablename__ = "image_store"

    name: Mapped[str] = mapped_column(String(255))
    protocol: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(2048))
    image_provider_name: Mapped[str] = mapped_column(String(255))
    data_center_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    scope: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(255), default="Image")
    readonly: Mapped[bool] = mapped_column(Boolean, default=False)
    parent: Mapped[str | None] = mapped_column(String(255))
    total_size: Mapped[int | None] = mapped_column(BigInteger)
    used_bytes: Mapped[int | None] = mapped_column(BigInteger)


class ImageStoreDetail(base.Base, base.IdMixin):
    """An image store option or credential, or an image-store-scoped setting."""

    __tablename__ = "image_store_details"

    store_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("image_store.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class Volume(base.Base, base.Entity):
    """A disk. ``pool_id`` is NULL until it is created on a pool; ``instance_id`` NULL when
    detached; ``device_id`` 0 is the root disk. ``size`` is the virtual size in bytes."""

    __tablename__ = "volumes"

    name: Mapped[str | None] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    pod_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("host_pod_ref.id"))
    pool_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("storage_pool.id"), index=True
    )
    last_pool_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("storage_pool.id"))
    instance_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("vm_instance.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int | None] = mapped_column(BigInteger)
    volume_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    min_iops: Mapped[int | None] = mapped_column(BigInteger)
    max_iops: Mapped[int | None] = mapped_column(BigInteger)
    disk_offering_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("disk_offering.id"), index=True
    )
    template_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("vm_template.id"), index=True
    )
    iso_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("vm_template.id"))
    format: Mapped[str | None] = mapped_column(String(255))
    provisioning_type: Mapped[str] = mapped_column(String(32), default="thin")
    pool_type: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(255))
    folder: Mapped[str | None] = mapped_column(String(255))
    iscsi_name: Mapped[str | None] = mapped_column(String(255))
    chain_info: Mapped[str | None] = mapped_column(Text)
    host_ip: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    attached: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    recreatable: Mapped[bool] = mapped_column(Boolean, default=False)
    display_volume: Mapped[bool] = mapped_column(Boolean, default=True)
    first_snapshot_backup_uuid: Mapped[str | None] = mapped_column(String(255))
    vm_snapshot_chain_size: Mapped[int | None] = mapped_column(BigInteger)
    hv_ss_reserve: Mapped[int | None] = mapped_column(Integer)
    external_uuid: Mapped[str | None] = mapped_column(String(40))
    passphrase_id: Mapped[int | None] = mapped_column(base.BigId)
    encrypt_format: Mapped[str | None] = mapped_column(String(64))
