"""Where things run: zones, pods, clusters, hosts, and their key/value details and tags.

A zone (``data_center``) holds pods (``host_pod_ref``), a pod holds clusters, a cluster holds
hosts. The ``*_details`` tables carry per-object settings, among them scoped overrides of global
settings (for example ``cpuOvercommitRatio`` in ``cluster_details``); deleting the owner deletes
its details.
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


class DataCenter(base.Base, base.Entity):
    """A zone: ``networktype`` Basic or Advanced; ``allocation_state`` gates placement."""

    __tablename__ = "data_center"
    __table_args__ = (Index("uq_data_center_live_name", "live_name", unique=True),)

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    dns1: Mapped[str | None] = mapped_column(String(255))
    dns2: Mapped[str | None] = mapped_column(String(255))
    ip6_dns1: Mapped[str | None] = mapped_column(String(255))
    ip6_dns2: Mapped[str | None] = mapped_column(String(255))
    internal_dns1: Mapped[str | None] = mapped_column(String(255))
    internal_dns2: Mapped[str | None] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(100))
    domain_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("domain.id"))
    networktype: Mapped[str] = mapped_column(String(255), default="Advanced")
    guest_network_cidr: Mapped[str | None] = mapped_column(String(18))
    allocation_state: Mapped[str] = mapped_column(String(32), default="Enabled")
    zone_token: Mapped[str | None] = mapped_column(String(255))
    is_security_group_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_local_storage_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    router_mac_address: Mapped[str] = mapped_column(String(17), default="02:00:00:00:00:01")
    mac_address: Mapped[int] = mapped_column(BigInteger, default=1)
    type: Mapped[str] = mapped_column(String(32), default="Core")
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    live_name: Mapped[str | None] = base.live_name("name")


class DataCenterDetail(base.Base, base.IdMixin):
    """A zone-scoped setting or attribute (``name`` is often a global setting's key)."""

    __tablename__ = "data_center_details"

    dc_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(1024))
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class HostPod(base.Base, base.Entity):
    """A pod: one L2 management network of a zone, ``cidr_address``/``cidr_size`` wide."""

    __tablename__ = "host_pod_ref"
    __table_args__ = (
        UniqueConstraint("name", "data_center_id"),
        Index(
            "uq_host_pod_ref_data_center_id_live_name", "data_center_id", "live_name", unique=True
        ),
    )

    name: Mapped[str] = mapped_column(String(255))
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    gateway: Mapped[str] = mapped_column(String(255))
    cidr_address: Mapped[str] = mapped_column(String(15))
    cidr_size: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(String(255))
    allocation_state: Mapped[str] = mapped_column(String(32), default="Enabled")
    external_dhcp: Mapped[bool] = mapped_column(Boolean, default=False)
    live_name: Mapped[str | None] = base.live_name("name")


class Cluster(base.Base, base.Entity):
    """A set of hosts of one hypervisor type sharing primary storage."""

    __tablename__ = "cluster"
    __table_args__ = (
        UniqueConstraint("pod_id", "name"),
        Index("uq_cluster_pod_id_live_name", "pod_id", "live_name", unique=True),
    )

    name: Mapped[str] = mapped_column(String(255))
    guid: Mapped[str | None] = mapped_column(String(255), unique=True)
    pod_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("host_pod_ref.id"), index=True)
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    hypervisor_type: Mapped[str | None] = mapped_column(String(32))
    cluster_type: Mapped[str | None] = mapped_column(String(64), default="CloudManaged")
    allocation_state: Mapped[str] = mapped_column(String(32), default="Enabled")
    managed_state: Mapped[str] = mapped_column(String(32), default="Managed")
    arch: Mapped[str | None] = mapped_column(String(8), default="x86_64")
    live_name: Mapped[str | None] = base.live_name("name")


class ClusterDetail(base.Base, base.IdMixin):
    """A cluster setting: always ``cpuOvercommitRatio`` and ``memoryOvercommitRatio``."""

    __tablename__ = "cluster_details"

    cluster_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class Host(base.Base, base.Entity):
    """A hypervisor, storage or system-VM agent.

    Two state dimensions: ``status`` is the agent connection (compare-and-swap on
    ``update_count``), ``resource_state`` the administrator's (Enabled, Maintenance, ...).
    ``last_ping`` is milliseconds shifted right by 10, as CloudStack keeps it.
    """

    __tablename__ = "host"
    __table_args__ = (
        Index("uq_host_data_center_id_live_name", "data_center_id", "live_name", unique=True),
        Index("uq_host_data_center_id_live_address", "data_center_id", "live_address", unique=True),
    )

    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(32), default="Creating", index=True)
    resource_state: Mapped[str] = mapped_column(String(32), default="Creating", index=True)
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    pod_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("host_pod_ref.id"), index=True
    )
    cluster_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("cluster.id"), index=True)
    hypervisor_type: Mapped[str | None] = mapped_column(String(32))
    hypervisor_version: Mapped[str | None] = mapped_column(String(32))
    arch: Mapped[str | None] = mapped_column(String(8))
    cpu_sockets: Mapped[int | None] = mapped_column(Integer)
    cpus: Mapped[int | None] = mapped_column(Integer)
    speed: Mapped[int | None] = mapped_column(BigInteger)
    ram: Mapped[int | None] = mapped_column(BigInteger)
    dom0_memory: Mapped[int] = mapped_column(BigInteger, default=0)
    private_ip_address: Mapped[str] = mapped_column(String(40))
    private_netmask: Mapped[str | None] = mapped_column(String(15))
    private_mac_address: Mapped[str | None] = mapped_column(String(17))
    public_ip_address: Mapped[str | None] = mapped_column(String(40))
    public_netmask: Mapped[str | None] = mapped_column(String(15))
    public_mac_address: Mapped[str | None] = mapped_column(String(17))
    storage_ip_address: Mapped[str | None] = mapped_column(String(40))
    storage_netmask: Mapped[str | None] = mapped_column(String(15))
    storage_mac_address: Mapped[str | None] = mapped_column(String(17))
    storage_ip_address_2: Mapped[str | None] = mapped_column(String(40))
    storage_netmask_2: Mapped[str | None] = mapped_column(String(15))
    storage_mac_address_2: Mapped[str | None] = mapped_column(String(17))
    guid: Mapped[str | None] = mapped_column(String(255), unique=True)
    url: Mapped[str | None] = mapped_column(String(255))
    resource: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(40))
    parent: Mapped[str | None] = mapped_column(String(255))
    total_size: Mapped[int | None] = mapped_column(BigInteger)
    fs_type: Mapped[str | None] = mapped_column(String(32))
    capabilities: Mapped[str | None] = mapped_column(String(255))
    proxy_port: Mapped[int | None] = mapped_column(Integer)
    last_ping: Mapped[int] = mapped_column(BigInteger, default=0)
    mgmt_server_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    disconnected: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    setup: Mapped[bool] = mapped_column(Boolean, default=False)
    live_name: Mapped[str | None] = base.live_name("name")
    #: The address while the host is live, NULL once removed (migration 0008): unique per zone.
    live_address: Mapped[str | None] = mapped_column(
        String(40), Computed("CASE WHEN removed IS NULL THEN private_ip_address END")
    )


class HostDetail(base.Base, base.IdMixin):
    """An attribute reported by or set on a host (one value per name)."""

    __tablename__ = "host_details"
    __table_args__ = (UniqueConstraint("host_id", "name"),)

    host_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("host.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class HostTag(base.Base, base.IdMixin):
    """A host tag matched against a service offering's ``host_tag`` (or a rule, if flagged)."""

    __tablename__ = "host_tags"

    host_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("host.id", ondelete="CASCADE"), index=True
    )
    tag: Mapped[str] = mapped_column(String(255))
    is_implicit: Mapped[bool] = mapped_column(Boolean, default=False)
    is_tag_a_rule: Mapped[bool] = mapped_column(Boolean, default=False)
