"""Networks: offerings, guest/system networks, NICs, public IP ranges (``vlan``) and addresses.

``networks.state`` changes through the gate like every state machine (see ``Network``);
``nics.state`` and ``user_ip_address.state`` are set directly by the orchestration code, as in
CloudStack.
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


class NetworkOffering(base.Base, base.Entity):
    """What a network provides; the services and providers live in a separate map."""

    __tablename__ = "network_offerings"
    # cirrostack addition: names are unique among live offerings regardless of case, as
    # CloudStack's MySQL collation makes them (``unique_name`` alone is case-sensitive).
    __table_args__ = (Index("uq_network_offerings_live_name", "live_name", unique=True),)

    name: Mapped[str | None] = mapped_column(String(64))
    unique_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_text: Mapped[str] = mapped_column(String(255))
    traffic_type: Mapped[str] = mapped_column(String(32))
    guest_type: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32), default="Disabled")
    availability: Mapped[str] = mapped_column(String(255), default="Optional")
    tags: Mapped[str | None] = mapped_column(String(4096))
    nw_rate: Mapped[int | None] = mapped_column(Integer)
    mc_rate: Mapped[int | None] = mapped_column(Integer)
    concurrent_connections: Mapped[int | None] = mapped_column(Integer)
    service_offering_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("service_offering.id")
    )
    system_only: Mapped[bool] = mapped_column(Boolean, default=False)
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    specify_vlan: Mapped[bool] = mapped_column(Boolean, default=False)
    specify_ip_ranges: Mapped[bool] = mapped_column(Boolean, default=False)
    is_persistent: Mapped[bool] = mapped_column(Boolean, default=False)
    conserve_mode: Mapped[bool] = mapped_column(Boolean, default=True)
    egress_default_policy: Mapped[bool] = mapped_column(Boolean, default=False)
    dedicated_lb_service: Mapped[bool] = mapped_column(Boolean, default=True)
    shared_source_nat_service: Mapped[bool] = mapped_column(Boolean, default=False)
    redundant_router_service: Mapped[bool] = mapped_column(Boolean, default=False)
    elastic_ip_service: Mapped[bool] = mapped_column(Boolean, default=False)
    eip_associate_public_ip: Mapped[bool] = mapped_column(Boolean, default=False)
    elastic_lb_service: Mapped[bool] = mapped_column(Boolean, default=False)
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    for_vpc: Mapped[bool] = mapped_column(Boolean, default=False)
    internal_lb: Mapped[bool] = mapped_column(Boolean, default=False)
    public_lb: Mapped[bool] = mapped_column(Boolean, default=False)
    keep_alive_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    supports_streched_l2: Mapped[bool] = mapped_column(Boolean, default=False)
    supports_public_access: Mapped[bool] = mapped_column(Boolean, default=False)
    supports_vm_autoscaling: Mapped[bool] = mapped_column(Boolean, default=False)
    service_package_id: Mapped[str | None] = mapped_column(String(255))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    live_name: Mapped[str | None] = base.live_name("name")


class Network(base.Base, base.Entity):
    """A guest or system network of a zone.

    ``related`` is the id of the network this one belongs with, usually its own: CloudStack
    knows the id before the insert (a sequence table); cirrostack's ids come from the insert, so
    ``related`` is nullable and set right after the first flush.
    """

    __tablename__ = "networks"

    name: Mapped[str | None] = mapped_column(String(255))
    display_text: Mapped[str | None] = mapped_column(String(255))
    traffic_type: Mapped[str] = mapped_column(String(32))
    broadcast_domain_type: Mapped[str] = mapped_column(String(32))
    broadcast_uri: Mapped[str | None] = mapped_column(String(255))
    gateway: Mapped[str | None] = mapped_column(String(15))
    cidr: Mapped[str | None] = mapped_column(String(18))
    network_cidr: Mapped[str | None] = mapped_column(String(18))
    mode: Mapped[str | None] = mapped_column(String(32))
    ip6_gateway: Mapped[str | None] = mapped_column(String(50))
    ip6_cidr: Mapped[str | None] = mapped_column(String(50))
    dns1: Mapped[str | None] = mapped_column(String(255))
    dns2: Mapped[str | None] = mapped_column(String(255))
    ip6_dns1: Mapped[str | None] = mapped_column(String(255))
    ip6_dns2: Mapped[str | None] = mapped_column(String(255))
    network_offering_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("network_offerings.id"), index=True
    )
    physical_network_id: Mapped[int | None] = mapped_column(base.BigId)
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    guru_name: Mapped[str] = mapped_column(String(255))
    guru_data: Mapped[str | None] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    # cirrostack addition: CloudStack updates networks.state blindly (last writer wins); we put
    # it behind the same compare-and-swap gate as every other state machine.
    update_count: Mapped[int] = mapped_column(base.BigId, default=0)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    related: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("networks.id"))
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    acl_type: Mapped[str | None] = mapped_column(String(15))
    guest_type: Mapped[str | None] = mapped_column(String(32))
    network_domain: Mapped[str | None] = mapped_column(String(255))
    reservation_id: Mapped[str | None] = mapped_column(String(40))
    restart_required: Mapped[bool] = mapped_column(Boolean, default=False)
    specify_ip_ranges: Mapped[bool] = mapped_column(Boolean, default=False)
    display_network: Mapped[bool] = mapped_column(Boolean, default=True)
    redundant: Mapped[bool] = mapped_column(Boolean, default=False)
    streched_l2: Mapped[bool] = mapped_column(Boolean, default=False)
    vpc_id: Mapped[int | None] = mapped_column(base.BigId)
    network_acl_id: Mapped[int | None] = mapped_column(base.BigId)
    external_id: Mapped[str | None] = mapped_column(String(255))
    public_mtu: Mapped[int | None] = mapped_column(Integer)
    private_mtu: Mapped[int | None] = mapped_column(Integer)


class Nic(base.Base, base.Entity):
    """A VM's interface on a network; ``device_id`` 0 is the first NIC inside the VM."""

    __tablename__ = "nics"
    # cirrostack addition: a MAC and an IPv4 address are each unique among a network's live
    # NICs (CloudStack has seen duplicates, #7633); removed NICs free theirs.
    __table_args__ = (
        Index("uq_nics_network_id_live_mac", "network_id", "live_mac", unique=True),
        Index("uq_nics_network_id_live_ip4", "network_id", "live_ip4", unique=True),
    )

    instance_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("vm_instance.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("networks.id"), index=True)
    mac_address: Mapped[str | None] = mapped_column(String(17))
    ip4_address: Mapped[str | None] = mapped_column(String(40))
    netmask: Mapped[str | None] = mapped_column(String(15))
    gateway: Mapped[str | None] = mapped_column(String(15))
    ip6_address: Mapped[str | None] = mapped_column(String(40))
    ip6_gateway: Mapped[str | None] = mapped_column(String(50))
    ip6_cidr: Mapped[str | None] = mapped_column(String(50))
    ip_type: Mapped[str | None] = mapped_column(String(32))
    broadcast_uri: Mapped[str | None] = mapped_column(String(255))
    isolation_uri: Mapped[str | None] = mapped_column(String(255))
    mode: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    strategy: Mapped[str] = mapped_column(String(32))
    reserver_name: Mapped[str | None] = mapped_column(String(255))
    reservation_id: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[int | None] = mapped_column(Integer)
    default_nic: Mapped[bool] = mapped_column(Boolean, default=False)
    vm_type: Mapped[str | None] = mapped_column(String(32))
    secondary_ip: Mapped[bool] = mapped_column(Boolean, default=False)
    mtu: Mapped[int | None] = mapped_column(Integer)
    update_time: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    live_mac: Mapped[str | None] = mapped_column(
        String(17), Computed("CASE WHEN removed IS NULL THEN mac_address END")
    )
    live_ip4: Mapped[str | None] = mapped_column(
        String(40), Computed("CASE WHEN removed IS NULL THEN ip4_address END")
    )


class VmNetworkMap(base.Base, base.IdMixin):
    """Which networks a VM belongs to (auxiliary; ``nics`` is authoritative)."""

    __tablename__ = "vm_network_map"

    vm_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("vm_instance.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )


class Vlan(base.Base, base.Entity):
    """An IP range on a VLAN: public (``VirtualNetwork``) or shared-network (``DirectAttached``).

    ``vlan_id`` is the tag or broadcast URI (``vlan://100``, ``untagged``).
    """

    __tablename__ = "vlan"

    vlan_id: Mapped[str | None] = mapped_column(String(255))
    vlan_gateway: Mapped[str | None] = mapped_column(String(255))
    vlan_netmask: Mapped[str | None] = mapped_column(String(255))
    ip6_gateway: Mapped[str | None] = mapped_column(String(255))
    ip6_cidr: Mapped[str | None] = mapped_column(String(255))
    ip6_range: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    vlan_type: Mapped[str | None] = mapped_column(String(255))
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    network_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("networks.id"), index=True)
    physical_network_id: Mapped[int | None] = mapped_column(base.BigId)


class UserIpAddress(base.Base, base.Entity):
    """A public address. Free rows exist for every address of a range; associating one sets the
    owner, ``allocated`` and ``network_id``."""

    __tablename__ = "user_ip_address"
    __table_args__ = (UniqueConstraint("public_ip_address", "source_network_id"),)

    public_ip_address: Mapped[str] = mapped_column(String(40))
    data_center_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("data_center.id"), index=True
    )
    vlan_db_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("vlan.id"), index=True)
    source_network_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("networks.id"))
    network_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("networks.id"), index=True
    )
    physical_network_id: Mapped[int | None] = mapped_column(base.BigId)
    account_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    domain_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    allocated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    state: Mapped[str] = mapped_column(String(32), default="Free", index=True)
    source_nat: Mapped[bool] = mapped_column(Boolean, default=False)
    one_to_one_nat: Mapped[bool] = mapped_column(Boolean, default=False)
    vm_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("vm_instance.id"))
    dnat_vmip: Mapped[str | None] = mapped_column(String(40))
    mac_address: Mapped[int] = mapped_column(BigInteger, default=0)
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    is_portable: Mapped[bool] = mapped_column(Boolean, default=False)
    display: Mapped[bool] = mapped_column(Boolean, default=True)
    forsystemvms: Mapped[bool] = mapped_column(Boolean, default=False)
    vpc_id: Mapped[int | None] = mapped_column(base.BigId)
    rule_state: Mapped[str | None] = mapped_column(String(32))


class NetworkOfferingService(base.Base, base.IdMixin, base.CreatedMixin):
    """A service a network offering provides and the provider giving it."""

    __tablename__ = "ntwk_offering_service_map"
    __table_args__ = (UniqueConstraint("network_offering_id", "service", "provider"),)

    network_offering_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("network_offerings.id", ondelete="CASCADE")
    )
    service: Mapped[str] = mapped_column(String(255))
    provider: Mapped[str | None] = mapped_column(String(255))


class OpNetwork(base.Base):
    """A network's operational counters; ``mac_address_seq`` numbers its guest MACs."""

    __tablename__ = "op_networks"

    id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True
    )
    mac_address_seq: Mapped[int] = mapped_column(BigInteger, default=1)
    nics_count: Mapped[int] = mapped_column(Integer, default=0)
    gc: Mapped[bool] = mapped_column(Boolean, default=True)
    check_for_gc: Mapped[bool] = mapped_column(Boolean, default=True)


class DomainNetworkRef(base.Base, base.IdMixin):
    """A Domain-wide network's domain; ``subdomain_access`` opens it to the subdomains too."""

    __tablename__ = "domain_network_ref"
    __table_args__ = (UniqueConstraint("network_id"),)

    domain_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("domain.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("networks.id", ondelete="CASCADE")
    )
    subdomain_access: Mapped[bool | None] = mapped_column(Boolean)
