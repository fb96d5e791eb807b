"""resource_limit, resource_count; one rule per pattern in role_permissions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ONE_OWNER = "(account_id IS NULL) <> (domain_id IS NULL)"


def _owned_table(name: str, value: str) -> None:
    """A table of one value per (type, account) or (type, domain)."""
    op.create_table(
        name,
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("account_id", BigId, nullable=True),
        sa.Column("domain_id", BigId, nullable=True),
        sa.Column(value, sa.BigInteger(), nullable=False),
        sa.CheckConstraint(_ONE_OWNER, name=op.f(f"ck_{name}_one_owner")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f(f"fk_{name}_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domain.id"],
            name=op.f(f"fk_{name}_domain_id_domain"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("type", "account_id", name=op.f(f"uq_{name}_type_account_id")),
        sa.UniqueConstraint("type", "domain_id", name=op.f(f"uq_{name}_type_domain_id")),
    )
    op.create_index(op.f(f"ix_{name}_account_id"), name, ["account_id"], unique=False)
    op.create_index(op.f(f"ix_{name}_domain_id"), name, ["domain_id"], unique=False)


def upgrade() -> None:
    _owned_table("resource_count", "count")
    _owned_table("resource_limit", "max")
    with op.batch_alter_table("role_permissions") as batch:
        batch.create_unique_constraint(
            batch.f("uq_role_permissions_role_id_rule"), ["role_id", "rule"]
        )


def downgrade() -> None:
    with op.batch_alter_table("role_permissions") as batch:
        batch.drop_constraint(batch.f("uq_role_permissions_role_id_rule"), type_="unique")
    # The tables' indexes go with them (dropping an index first fails on MariaDB).
    op.drop_table("resource_limit")
    op.drop_table("resource_count")
