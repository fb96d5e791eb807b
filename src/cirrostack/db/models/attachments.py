"""What users attach to VMs: SSH key pairs, instance groups, affinity groups and security
groups with their rules, and the maps that join them to VMs.

Names are unique per account among live rows regardless of case, as CloudStack's MySQL
collation makes them: a generated ``live_name`` column (``lower(name)``, NULL once an instance
group is removed) under a unique index with ``account_id`` (migration 0012). Key pairs,
affinity groups and security groups are deleted for good in CloudStack (no ``removed``), so
their ``live_name`` is simply the lowered name.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Computed, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


def _lowered(column: str) -> Mapped[str | None]:
    """``lower(<column>)``, generated: the case-insensitive key of a row deleted for good."""
    return mapped_column(String(255), Computed(f"lower({column})"))


class SshKeyPair(base.Base, base.IdMixin, base.UuidMixin):
    """A public key an account registered or had generated; the private key is never stored.

    ``fingerprint`` is CloudStack's: the MD5 of the decoded key blob in colon hex.
    """

    __tablename__ = "ssh_keypairs"
    __table_args__ = (
        Index("uq_ssh_keypairs_account_id_live_name", "account_id", "live_name", unique=True),
        UniqueConstraint("account_id", "fingerprint"),
    )

    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    keypair_name: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String(5120))
    live_name: Mapped[str | None] = _lowered("keypair_name")


class InstanceGroup(base.Base, base.Entity):
    """A label grouping an account's VMs (deployVirtualMachine ``group``)."""

    __tablename__ = "instance_group"
    __table_args__ = (
        Index("uq_instance_group_account_id_live_name", "account_id", "live_name", unique=True),
    )

    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    display: Mapped[bool] = mapped_column(Boolean, default=True)
    live_name: Mapped[str | None] = base.live_name("name")


class InstanceGroupVm(base.Base, base.IdMixin):
    """A VM's group: at most one per VM (the unique ``instance_id``)."""

    __tablename__ = "instance_group_vm_map"

    group_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("instance_group.id", ondelete="CASCADE"), index=True
    )
    instance_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("vm_instance.id", ondelete="CASCADE"), unique=True
    )


class AffinityGroup(base.Base, base.IdMixin, base.UuidMixin):
    """A set of VMs the planner keeps on one host (``host affinity``) or apart
    (``host anti-affinity``); ``acl_type`` is ``Account`` (domain-wide groups are not kept)."""

    __tablename__ = "affinity_group"
    __table_args__ = (
        Index("uq_affinity_group_account_id_live_name", "account_id", "live_name", unique=True),
    )

    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(4096))
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    acl_type: Mapped[str] = mapped_column(String(15), default="Account")
    live_name: Mapped[str | None] = _lowered("name")


class AffinityGroupVm(base.Base, base.IdMixin):
    """A VM's membership of an affinity group."""

    __tablename__ = "affinity_group_vm_map"
    __table_args__ = (UniqueConstraint("affinity_group_id", "instance_id"),)

    affinity_group_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("affinity_group.id"), index=True
    )
    instance_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("vm_instance.id", ondelete="CASCADE"), index=True
    )


class SecurityGroup(base.Base, base.IdMixin, base.UuidMixin):
    """A named set of ingress and egress rules; every account has one called ``default``."""

    __tablename__ = "security_group"
    __table_args__ = (
        Index("uq_security_group_account_id_live_name", "account_id", "live_name", unique=True),
    )

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(4096))
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
    live_name: Mapped[str | None] = _lowered("name")


class SecurityGroupRule(base.Base, base.IdMixin, base.UuidMixin):
    """One rule: a protocol and port range (ICMP: type in ``start_port``, code in
    ``end_port``) from one CIDR or one other security group (``allowed_network_id``)."""

    __tablename__ = "security_group_rule"

    security_group_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("security_group.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(10), default="ingress")
    start_port: Mapped[int | None] = mapped_column(Integer)
    end_port: Mapped[int | None] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(16), default="TCP")
    allowed_network_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("security_group.id", ondelete="CASCADE"), index=True
    )
    allowed_ip_cidr: Mapped[str | None] = mapped_column(String(44))
    create_status: Mapped[str | None] = mapped_column(String(32))


class SecurityGroupVm(base.Base, base.IdMixin):
    """A VM's membership of a security group."""

    __tablename__ = "security_group_vm_map"
    __table_args__ = (UniqueConstraint("security_group_id", "instance_id"),)

    security_group_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("security_group.id"), index=True
    )
    instance_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("vm_instance.id", ondelete="CASCADE"), index=True
    )
