"""What users attach to VMs: ssh_keypairs, instance_group(+_vm_map), affinity_group(+_vm_map),
security_group, security_group_rule, security_group_vm_map

Names are unique per account regardless of case, by a generated ``live_name`` under a unique
index with ``account_id`` (as 0004): stored on PostgreSQL, computed on read elsewhere.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = (
    "security_group_vm_map",
    "instance_group_vm_map",
    "affinity_group_vm_map",
    "security_group_rule",
    "ssh_keypairs",
    "security_group",
    "instance_group",
    "affinity_group",
)


def upgrade() -> None:
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    op.create_table(
        "affinity_group",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=4096), nullable=True),
        sa.Column(
            "domain_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("acl_type", sa.String(length=15), nullable=False),
        sa.Column(
            "live_name",
            sa.String(length=255),
            sa.Computed("lower(name)", persisted=stored),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_affinity_group_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_affinity_group_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affinity_group")),
        sa.UniqueConstraint("uuid", name=op.f("uq_affinity_group_uuid")),
    )
    with op.batch_alter_table("affinity_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_affinity_group_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_affinity_group_domain_id"), ["domain_id"], unique=False
        )
        batch_op.create_index(
            "uq_affinity_group_account_id_live_name", ["account_id", "live_name"], unique=True
        )

    op.create_table(
        "instance_group",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display", sa.Boolean(), nullable=False),
        sa.Column(
            "live_name",
            sa.String(length=255),
            sa.Computed("CASE WHEN removed IS NULL THEN lower(name) END", persisted=stored),
            nullable=True,
        ),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("removed", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_instance_group_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_group")),
        sa.UniqueConstraint("uuid", name=op.f("uq_instance_group_uuid")),
    )
    with op.batch_alter_table("instance_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instance_group_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "uq_instance_group_account_id_live_name", ["account_id", "live_name"], unique=True
        )

    op.create_table(
        "security_group",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=4096), nullable=True),
        sa.Column(
            "domain_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "live_name",
            sa.String(length=255),
            sa.Computed("lower(name)", persisted=stored),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_security_group_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_security_group_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_group")),
        sa.UniqueConstraint("uuid", name=op.f("uq_security_group_uuid")),
    )
    with op.batch_alter_table("security_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_group_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_security_group_domain_id"), ["domain_id"], unique=False
        )
        batch_op.create_index(
            "uq_security_group_account_id_live_name", ["account_id", "live_name"], unique=True
        )

    op.create_table(
        "ssh_keypairs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "domain_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("keypair_name", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("public_key", sa.String(length=5120), nullable=False),
        sa.Column(
            "live_name",
            sa.String(length=255),
            sa.Computed("lower(keypair_name)", persisted=stored),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_ssh_keypairs_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_ssh_keypairs_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssh_keypairs")),
        sa.UniqueConstraint(
            "account_id", "fingerprint", name=op.f("uq_ssh_keypairs_account_id_fingerprint")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_ssh_keypairs_uuid")),
    )
    with op.batch_alter_table("ssh_keypairs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ssh_keypairs_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ssh_keypairs_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(
            "uq_ssh_keypairs_account_id_live_name", ["account_id", "live_name"], unique=True
        )

    op.create_table(
        "security_group_rule",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=40), nullable=False),
        sa.Column(
            "security_group_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("start_port", sa.Integer(), nullable=True),
        sa.Column("end_port", sa.Integer(), nullable=True),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column(
            "allowed_network_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("allowed_ip_cidr", sa.String(length=44), nullable=True),
        sa.Column("create_status", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["allowed_network_id"],
            ["security_group.id"],
            name=op.f("fk_security_group_rule_allowed_network_id_security_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["security_group_id"],
            ["security_group.id"],
            name=op.f("fk_security_group_rule_security_group_id_security_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_group_rule")),
        sa.UniqueConstraint("uuid", name=op.f("uq_security_group_rule_uuid")),
    )
    with op.batch_alter_table("security_group_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_group_rule_allowed_network_id"),
            ["allowed_network_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_security_group_rule_security_group_id"),
            ["security_group_id"],
            unique=False,
        )

    op.create_table(
        "affinity_group_vm_map",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "affinity_group_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "instance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["affinity_group_id"],
            ["affinity_group.id"],
            name=op.f("fk_affinity_group_vm_map_affinity_group_id_affinity_group"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["vm_instance.id"],
            name=op.f("fk_affinity_group_vm_map_instance_id_vm_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affinity_group_vm_map")),
        sa.UniqueConstraint(
            "affinity_group_id",
            "instance_id",
            name=op.f("uq_affinity_group_vm_map_affinity_group_id_instance_id"),
        ),
    )
    with op.batch_alter_table("affinity_group_vm_map", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_affinity_group_vm_map_affinity_group_id"),
            ["affinity_group_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_affinity_group_vm_map_instance_id"), ["instance_id"], unique=False
        )

    op.create_table(
        "instance_group_vm_map",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "instance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["instance_group.id"],
            name=op.f("fk_instance_group_vm_map_group_id_instance_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["vm_instance.id"],
            name=op.f("fk_instance_group_vm_map_instance_id_vm_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_group_vm_map")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_instance_group_vm_map_instance_id")),
    )
    with op.batch_alter_table("instance_group_vm_map", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instance_group_vm_map_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "security_group_vm_map",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "security_group_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "instance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["vm_instance.id"],
            name=op.f("fk_security_group_vm_map_instance_id_vm_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["security_group_id"],
            ["security_group.id"],
            name=op.f("fk_security_group_vm_map_security_group_id_security_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_group_vm_map")),
        sa.UniqueConstraint(
            "security_group_id",
            "instance_id",
            name=op.f("uq_security_group_vm_map_security_group_id_instance_id"),
        ),
    )
    with op.batch_alter_table("security_group_vm_map", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_group_vm_map_instance_id"), ["instance_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_security_group_vm_map_security_group_id"),
            ["security_group_id"],
            unique=False,
        )


def downgrade() -> None:
    # Tables alone: MariaDB refuses to drop an index a foreign key still needs.
    for table in TABLES:
        op.drop_table(table)
