"""Virtual machines: ``vm_instance`` for every VM (user or system), ``user_vm`` for user VMs.

``vm_instance.state`` changes only through the state gate: a compare-and-swap on ``state``,
``host_id`` and ``update_count`` that also stamps ``update_time``.

Ids are plain autoincrement keys. CloudStack draws vm_instance ids from its ``sequence`` table;
cirrostack has no ``sequence`` table, so code that needs a VM's id (for ``instance_name``, say)
inserts the row first and reads the id back.

``user_vm`` is a one-to-one side table keyed by the VM id, mapped as its own class rather than
through joined inheritance, so that system VMs (whose ``type`` has no subclass) load as plain
``VmInstance`` rows.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base

#: Base64 user data may reach 1 MB; MySQL/MariaDB's TEXT stops at 64 KB.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class VmInstance(base.Base, base.Entity):
    """A VM. ``name`` is the host name, ``instance_name`` the hypervisor's (``i-2-10-VM``).

    ``host_id`` is set while Starting/Running/Stopping/Migrating; ``last_host_id`` keeps the host
    it last ran on (start-on-last-host and reserved capacity).
    """

    __tablename__ = "vm_instance"
    __table_args__ = (
        Index(
            "uq_vm_instance_account_id_data_center_id_live_name",
            "account_id",
            "data_center_id",
            "live_name",
            unique=True,
        ),
    )

    name: Mapped[str] = mapped_column(String(255))
    instance_name: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(32), default="Stopped", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    update_time: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    power_state: Mapped[str] = mapped_column(String(74), default="PowerUnknown")
    power_state_update_time: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    power_state_update_count: Mapped[int] = mapped_column(Integer, default=0)
    power_host: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("host.id"))
    type: Mapped[str] = mapped_column(String(32))
    vm_type: Mapped[str] = mapped_column(String(32), index=True)
    vm_template_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("vm_template.id"), index=True
    )
    guest_os_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("guest_os.id"))
    service_offering_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("service_offering.id"), index=True
    )
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    pod_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("host_pod_ref.id"), index=True
    )
    host_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("host.id"), index=True)
    last_host_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("host.id"), index=True)
    hypervisor_type: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("user.id"))
    ha_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    limit_cpu_use: Mapped[bool] = mapped_column(Boolean, default=False)
    display_vm: Mapped[bool] = mapped_column(Boolean, default=True)
    dynamically_scalable: Mapped[bool] = mapped_column(Boolean, default=False)
    private_ip_address: Mapped[str | None] = mapped_column(String(40))
    private_mac_address: Mapped[str | None] = mapped_column(String(17))
    private_netmask: Mapped[str | None] = mapped_column(String(15))
    vnc_password: Mapped[str] = mapped_column(String(255))
    proxy_id: Mapped[int | None] = mapped_column(base.BigId)
    proxy_assign_time: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    reservation_id: Mapped[str | None] = mapped_column(String(40))
    backup_offering_id: Mapped[int | None] = mapped_column(base.BigId)
    backup_external_id: Mapped[str | None] = mapped_column(String(255))
    backup_volumes: Mapped[str | None] = mapped_column(Text)
    #: The host name while the VM is not expunged: unique per account and zone (0014).
    live_name: Mapped[str | None] = base.live_name("name")


class UserVm(base.Base):
    """The user-VM half of a VM: display name, attached ISO, user data (base64, up to 1 MB)."""

    __tablename__ = "user_vm"

    id: Mapped[int] = mapped_column(
        base.BigId,
        ForeignKey("vm_instance.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    iso_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("vm_template.id"))
    display_name: Mapped[str | None] = mapped_column(String(255))
    user_data: Mapped[str | None] = mapped_column(LongText)
    update_parameters: Mapped[bool] = mapped_column(Boolean, default=True)
    user_vm_type: Mapped[str | None] = mapped_column(String(255))


class UserVmDetail(base.Base, base.IdMixin):
    """A VM attribute, for every VM type: ``cpuNumber``/``memory`` of custom offerings,
    ``rootdisksize``, ``keyboard``, ..."""

    __tablename__ = "user_vm_details"

    vm_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("vm_instance.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(5120))
    display: Mapped[bool] = mapped_column(Boolean, default=True)
