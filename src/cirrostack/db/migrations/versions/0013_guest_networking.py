"""Guest networking: physical networks, offering services, op_networks, domain-wide networks

CloudStack's tables physical_network (with its tags, isolation methods, traffic types and
service providers), ntwk_offering_service_map, op_networks (a network's MAC sequence) and
domain_network_ref, and on ``nics`` two generated columns with unique keys: a MAC and an IPv4
address are unique among a network's live NICs, the database settling concurrent allocations.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "physical_network",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "data_center_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("vnet", sa.String(length=255), nullable=True),
        sa.Column("speed", sa.String(length=32), nullable=True),
        sa.Column("domain_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("broadcast_domain_range", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("removed", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_center_id"],
            ["data_center.id"],
            name=op.f("fk_physical_network_data_center_id_data_center"),
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_physical_network_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_physical_network")),
        sa.UniqueConstraint("uuid", name=op.f("uq_physical_network_uuid")),
    )
    with op.batch_alter_table("physical_network", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_physical_network_data_center_id"), ["data_center_id"], unique=False
        )

    op.create_table(
        "ntwk_offering_service_map",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "network_offering_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("service", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=255), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_offering_id"],
            ["network_offerings.id"],
            name=op.f("fk_ntwk_offering_service_map_network_offering_id_network_offerings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ntwk_offering_service_map")),
        sa.UniqueConstraint(
            "network_offering_id",
            "service",
            "provider",
            name=op.f("uq_ntwk_offering_service_map_network_offering_id_service_provider"),
        ),
    )
    op.create_table(
        "physical_network_isolation_methods",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "physical_network_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("isolation_method", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["physical_network_id"],
            ["physical_network.id"],
            name=op.f("fk_physical_network_isolation_methods_physical_network_id_physical_network"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_physical_network_isolation_methods")),
        sa.UniqueConstraint(
            "physical_network_id",
            "isolation_method",
            name=op.f("uq_physical_network_isolation_methods_physical_network_id_isolation_method"),
        ),
    )
    op.create_table(
        "physical_network_service_providers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column(
            "physical_network_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("provider_name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column(
            "destination_physical_network_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("vpn_service_provided", sa.Boolean(), nullable=False),
        sa.Column("dhcp_service_provided", sa.Boolean(), nullable=False),
        sa.Column("dns_service_provided", sa.Boolean(), nullable=False),
        sa.Column("gateway_service_provided", sa.Boolean(), nullable=False),
        sa.Column("firewall_service_provided", sa.Boolean(), nullable=False),
        sa.Column("source_nat_service_provided", sa.Boolean(), nullable=False),
        sa.Column("load_balance_service_provided", sa.Boolean(), nullable=False),
        sa.Column("static_nat_service_provided", sa.Boolean(), nullable=False),
        sa.Column("port_forwarding_service_provided", sa.Boolean(), nullable=False),
        sa.Column("user_data_service_provided", sa.Boolean(), nullable=False),
        sa.Column("security_group_service_provided", sa.Boolean(), nullable=False),
        sa.Column("networkacl_service_provided", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["physical_network_id"],
            ["physical_network.id"],
            name=op.f("fk_physical_network_service_providers_physical_network_id_physical_network"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_physical_network_service_providers")),
        sa.UniqueConstraint(
            "physical_network_id",
            "provider_name",
            name=op.f("uq_physical_network_service_providers_physical_network_id_provider_name"),
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_physical_network_service_providers_uuid")),
    )
    op.create_table(
        "physical_network_tags",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "physical_network_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["physical_network_id"],
            ["physical_network.id"],
            name=op.f("fk_physical_network_tags_physical_network_id_physical_network"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_physical_network_tags")),
        sa.UniqueConstraint(
            "physical_network_id",
            "tag",
            name=op.f("uq_physical_network_tags_physical_network_id_tag"),
        ),
    )
    op.create_table(
        "physical_network_traffic_types",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column(
            "physical_network_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("traffic_type", sa.String(length=32), nullable=False),
        sa.Column("xenserver_network_label", sa.String(length=255), nullable=True),
        sa.Column("kvm_network_label", sa.String(length=255), nullable=True),
        sa.Column("vmware_network_label", sa.String(length=255), nullable=True),
        sa.Column("simulator_network_label", sa.String(length=255), nullable=True),
        sa.Column("hyperv_network_label", sa.String(length=255), nullable=True),
        sa.Column("ovm3_network_label", sa.String(length=255), nullable=True),
        sa.Column("vlan", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["physical_network_id"],
            ["physical_network.id"],
            name=op.f("fk_physical_network_traffic_types_physical_network_id_physical_network"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_physical_network_traffic_types")),
        sa.UniqueConstraint(
            "physical_network_id",
            "traffic_type",
            name=op.f("uq_physical_network_traffic_types_physical_network_id_traffic_type"),
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_physical_network_traffic_types_uuid")),
    )
    op.create_table(
        "domain_network_ref",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "domain_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "network_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("subdomain_access", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domain.id"],
            name=op.f("fk_domain_network_ref_domain_id_domain"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_domain_network_ref_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_network_ref")),
        sa.UniqueConstraint("network_id", name=op.f("uq_domain_network_ref_network_id")),
    )
    with op.batch_alter_table("domain_network_ref", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_domain_network_ref_domain_id"), ["domain_id"], unique=False
        )

    op.create_table(
        "op_networks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mac_address_seq", sa.BigInteger(), nullable=False),
        sa.Column("nics_count", sa.Integer(), nullable=False),
        sa.Column("gc", sa.Boolean(), nullable=False),
        sa.Column("check_for_gc", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["networks.id"], name=op.f("fk_op_networks_id_networks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_op_networks")),
    )
    op.create_table(
        "op_dc_vnet_alloc",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("vnet", sa.String(length=18), nullable=False),
        sa.Column("physical_network_id", BigId, nullable=False),
        sa.Column("data_center_id", BigId, nullable=False),
        sa.Column("reservation_id", sa.String(length=40), nullable=True),
        sa.Column("account_id", BigId, nullable=True),
        sa.Column("taken", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["physical_network_id"],
            ["physical_network.id"],
            name=op.f("fk_op_dc_vnet_alloc_physical_network_id_physical_network"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["data_center_id"],
            ["data_center.id"],
            name=op.f("fk_op_dc_vnet_alloc_data_center_id_data_center"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_op_dc_vnet_alloc")),
        sa.UniqueConstraint(
            "vnet",
            "physical_network_id",
            "data_center_id",
            name=op.f("uq_op_dc_vnet_alloc_vnet_physical_network_id_data_center_id"),
        ),
    )
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    op.add_column(
        "network_offerings",
        sa.Column(
            "live_name",
            sa.String(length=255),
            sa.Computed("CASE WHEN removed IS NULL THEN lower(name) END", persisted=stored),
            nullable=True,
        ),
    )
    op.create_index(
        "uq_network_offerings_live_name", "network_offerings", ["live_name"], unique=True
    )
    for column, source, length in (
        ("live_mac", "mac_address", 17),
        ("live_ip4", "ip4_address", 40),
    ):
        op.add_column(
            "nics",
            sa.Column(
                column,
                sa.String(length=length),
                sa.Computed(f"CASE WHEN removed IS NULL THEN {source} END", persisted=stored),
                nullable=True,
            ),
        )
        op.create_index(f"uq_nics_network_id_{column}", "nics", ["network_id", column], unique=True)


def downgrade() -> None:
    for column in ("live_ip4", "live_mac"):
        op.drop_index(f"uq_nics_network_id_{column}", "nics")
    # Both in one batch: SQLite's copy of the table must carry no generated column.
    with op.batch_alter_table("nics") as batch:
        batch.drop_column("live_ip4")
        batch.drop_column("live_mac")
    op.drop_index("uq_network_offerings_live_name", "network_offerings")
    with op.batch_alter_table("network_offerings") as batch:
        batch.drop_column("live_name")
    # Tables alone: their indexes go with them (MariaDB keeps an index a foreign key needs).
    for table in (
        "op_dc_vnet_alloc",
        "op_networks",
        "domain_network_ref",
        "physical_network_traffic_types",
        "physical_network_tags",
        "physical_network_service_providers",
        "physical_network_isolation_methods",
        "ntwk_offering_service_map",
        "physical_network",
    ):
        op.drop_table(table)
