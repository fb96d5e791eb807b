"""Physical networks of a zone: their traffic types, tags, isolation methods and providers.

Table and column names are CloudStack's. A zone's guest networks are laid on a physical network
carrying Guest traffic; its service providers (VirtualRouter, ConfigDrive, ...) are rows seeded
with the physical network, each with a state an admin may change.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class PhysicalNetwork(base.Base, base.Entity):
    """A physical network: ``vnet`` is its guest VLAN range (``100-200,300-310``)."""

    __tablename__ = "physical_network"

    name: Mapped[str] = mapped_column(String(255))
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    vnet: Mapped[str | None] = mapped_column(String(255))
    speed: Mapped[str | None] = mapped_column(String(32))
    domain_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("domain.id"))
    broadcast_domain_range: Mapped[str] = mapped_column(String(32), default="POD")
    state: Mapped[str] = mapped_column(String(32), default="Disabled")


class PhysicalNetworkTag(base.Base, base.IdMixin):
    """One tag of a physical network (a network offering's tags pick the physical network)."""

    __tablename__ = "physical_network_tags"
    __table_args__ = (UniqueConstraint("physical_network_id", "tag"),)

    physical_network_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("physical_network.id", ondelete="CASCADE")
    )
    tag: Mapped[str] = mapped_column(String(255))


class PhysicalNetworkIsolationMethod(base.Base, base.IdMixin):
    """One isolation method of a physical network (VLAN, VXLAN, ...)."""

    __tablename__ = "physical_network_isolation_methods"
    __table_args__ = (UniqueConstraint("physical_network_id", "isolation_method"),)

    physical_network_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("physical_network.id", ondelete="CASCADE")
    )
    isolation_method: Mapped[str] = mapped_column(String(255))


class PhysicalNetworkTrafficType(base.Base, base.IdMixin, base.UuidMixin):
    """A traffic type (Guest, Public, Management, Storage) a physical network carries, with the
    host bridge each hypervisor names it by."""

    __tablename__ = "physical_network_traffic_types"
    __table_args__ = (UniqueConstraint("physical_network_id", "traffic_type"),)

    physical_network_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("physical_network.id", ondelete="CASCADE")
    )
    traffic_type: Mapped[str] = mapped_column(String(32))
    xenserver_network_label: Mapped[str | None] = mapped_column(String(255))
    kvm_network_label: Mapped[str | None] = mapped_column(String(255))
    vmware_network_label: Mapped[str | None] = mapped_column(String(255))
    simulator_network_label: Mapped[str | None] = mapped_column(String(255))
    hyperv_network_label: Mapped[str | None] = mapped_column(String(255))
    ovm3_network_label: Mapped[str | None] = mapped_column(String(255))
    vlan: Mapped[str | None] = mapped_column(String(255))


class PhysicalNetworkServiceProvider(base.Base, base.IdMixin, base.UuidMixin, base.RemovedMixin):
    """A network service provider on a physical network and the services it may provide."""

    __tablename__ = "physical_network_service_providers"
    __table_args__ = (UniqueConstraint("physical_network_id", "provider_name"),)

    physical_network_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("physical_network.id", ondelete="CASCADE")
    )
    provider_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(32), default="Disabled")
    destination_physical_network_id: Mapped[int | None] = mapped_column(base.BigId)
    vpn_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    dhcp_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    dns_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    gateway_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    firewall_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    source_nat_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    load_balance_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    static_nat_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    port_forwarding_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    user_data_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    security_group_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    networkacl_service_provided: Mapped[bool] = mapped_column(Boolean, default=False)


class VnetAllocation(base.Base, base.IdMixin):
    """A guest VLAN of a physical network's range taken by a network (CloudStack's
    ``op_dc_vnet_alloc``); a row exists only while the VLAN is taken, and the unique key
    settles two networks reaching for one VLAN."""

    __tablename__ = "op_dc_vnet_alloc"
    __table_args__ = (UniqueConstraint("vnet", "physical_network_id", "data_center_id"),)

    vnet: Mapped[str] = mapped_column(String(18))
    physical_network_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("physical_network.id", ondelete="CASCADE")
    )
    data_center_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("data_center.id"))
    reservation_id: Mapped[str | None] = mapped_column(String(40))
    account_id: Mapped[int | None] = mapped_column(base.BigId)
    taken: Mapped[datetime.datetime | None] = mapped_column(DateTime())
