"""Templates and ISOs, and the copies of templates and volumes kept on stores.

``vm_template.state`` says whether the template exists for users (Active, NotUploaded, ...);
whether bits are usable somewhere is each copy's ``state``: ``template_store_ref`` (on an image
store), ``template_spool_ref`` (on a primary pool) and ``volume_store_ref`` (a volume on an image
store, for uploads, extracts and migrations). All four change state through the gate, a
compare-and-swap on ``state`` and ``update_count`` stamping ``updated``; ``download_state`` is the
legacy status text kept alongside.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class VmTemplate(base.Base, base.Entity):
    """A template or, when ``format`` is ``ISO``, an ISO. ``size`` is the virtual size in bytes."""

    __tablename__ = "vm_template"

    unique_name: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    display_text: Mapped[str | None] = mapped_column(String(4096))
    format: Mapped[str] = mapped_column(String(32))
    type: Mapped[str | None] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    extractable: Mapped[bool] = mapped_column(Boolean, default=True)
    cross_zones: Mapped[bool] = mapped_column(Boolean, default=False)
    bootable: Mapped[bool] = mapped_column(Boolean, default=True)
    prepopulate: Mapped[bool] = mapped_column(Boolean, default=False)
    hvm: Mapped[bool] = mapped_column(Boolean, default=True)
    enable_password: Mapped[bool] = mapped_column(Boolean, default=False)
    enable_sshkey: Mapped[bool] = mapped_column(Boolean, default=False)
    dynamically_scalable: Mapped[bool] = mapped_column(Boolean, default=False)
    direct_download: Mapped[bool] = mapped_column(Boolean, default=False)
    deploy_as_is: Mapped[bool] = mapped_column(Boolean, default=False)
    bits: Mapped[int] = mapped_column(Integer, default=64)
    url: Mapped[str | None] = mapped_column(String(2048))
    checksum: Mapped[str | None] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    guest_os_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("guest_os.id"))
    hypervisor_type: Mapped[str | None] = mapped_column(String(32))
    source_template_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("vm_template.id"))
    parent_template_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("vm_template.id"))
    template_tag: Mapped[str | None] = mapped_column(String(255))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(32), default="Active", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())


class TemplateStoreRef(base.Base, base.IdMixin, base.CreatedMixin):
    """A template's copy on an image store; ``install_path`` is relative to the store.

    ``live_store_id`` is ``store_id`` while the copy is not destroyed: a unique key over it
    and the template lets a template have at most one live copy per store, whatever races.
    """

    __tablename__ = "template_store_ref"
    __table_args__ = (
        Index(
            "uq_template_store_ref_template_id_live_store_id",
            "template_id",
            "live_store_id",
            unique=True,
        ),
    )

    store_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("image_store.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("vm_template.id", ondelete="CASCADE"), index=True
    )
    store_role: Mapped[str] = mapped_column(String(255), default="Image")
    last_updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    job_id: Mapped[str | None] = mapped_column(String(255))
    download_pct: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger)
    physical_size: Mapped[int] = mapped_column(BigInteger, default=0)
    download_state: Mapped[str | None] = mapped_column(String(255))
    error_str: Mapped[str | None] = mapped_column(String(255))
    local_path: Mapped[str | None] = mapped_column(String(255))
    install_path: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(2048))
    download_url: Mapped[str | None] = mapped_column(String(2048))
    download_url_created: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    is_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    destroyed: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    ref_cnt: Mapped[int] = mapped_column(BigInteger, default=0)
    live_store_id: Mapped[int | None] = mapped_column(
        base.BigId, Computed("CASE WHEN destroyed THEN NULL ELSE store_id END")
    )


class TemplateSpoolRef(base.Base, base.IdMixin, base.CreatedMixin):
    """A template's copy on a primary pool; ``template_size`` counts as allocated capacity."""

    __tablename__ = "template_spool_ref"
    __table_args__ = (UniqueConstraint("template_id", "pool_id"),)

    pool_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("storage_pool.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("vm_template.id"))
    last_updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    job_id: Mapped[str | None] = mapped_column(String(255))
    download_pct: Mapped[int | None] = mapped_column(Integer)
    download_state: Mapped[str | None] = mapped_column(String(255), default="NOT_DOWNLOADED")
    error_str: Mapped[str | None] = mapped_column(String(255))
    local_path: Mapped[str | None] = mapped_column(String(255))
    install_path: Mapped[str | None] = mapped_column(String(255))
    template_size: Mapped[int] = mapped_column(BigInteger, default=0)
    marked_for_gc: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    deployment_option: Mapped[str | None] = mapped_column(String(255))


class VolumeStoreRef(base.Base, base.IdMixin, base.CreatedMixin):
    """A volume's copy on an image store (upload, extract, cross-pool migration)."""

    __tablename__ = "volume_store_ref"

    store_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("image_store.id", ondelete="CASCADE"), index=True
    )
    volume_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("volumes.id", ondelete="CASCADE"), index=True
    )
    zone_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("data_center.id"))
    last_updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    download_pct: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger)
    physical_size: Mapped[int] = mapped_column(BigInteger, default=0)
    download_state: Mapped[str | None] = mapped_column(String(255))
    checksum: Mapped[str | None] = mapped_column(String(255))
    error_str: Mapped[str | None] = mapped_column(String(255))
    local_path: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[str | None] = mapped_column(String(255))
    install_path: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(2048))
    download_url: Mapped[str | None] = mapped_column(String(2048))
    download_url_created: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    destroyed: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    ref_cnt: Mapped[int] = mapped_column(BigInteger, default=0)


class LaunchPermission(base.Base, base.IdMixin):
    """An account allowed to launch another account's private template (``sharedexecutable``)."""

    __tablename__ = "launch_permission"
    __table_args__ = (UniqueConstraint("template_id", "account_id"),)

    template_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("vm_template.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
