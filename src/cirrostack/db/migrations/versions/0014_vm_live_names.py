"""VM host names unique over live VMs: per account and zone, case-insensitive

``vm_instance`` gets the generated ``live_name`` (the lowercased name while the VM is not
removed, NULL once expunged) and a unique index over (account_id, data_center_id, live_name),
so two deploys racing for one name cannot both win (the shape of 0004).

Revision ID: 0014
Revises: 0013 (0011 in the brief; chained after the network slice's 0013 once merged)
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_INDEX = "uq_vm_instance_account_id_data_center_id_live_name"


def upgrade() -> None:
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    op.add_column(
        "vm_instance",
        sa.Column(
            "live_name",
            sa.String(length=255),
            sa.Computed("CASE WHEN removed IS NULL THEN lower(name) END", persisted=stored),
            nullable=True,
        ),
    )
    op.create_index(
        op.f(_INDEX), "vm_instance", ["account_id", "data_center_id", "live_name"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f(_INDEX), "vm_instance")
    with op.batch_alter_table("vm_instance") as batch:
        batch.drop_column("live_name")
