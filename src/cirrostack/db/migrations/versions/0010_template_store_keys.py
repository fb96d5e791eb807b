"""A template has at most one live copy per image store; launch permissions

Two registrations (or a registration and a copyTemplate) racing for the same store would each
insert a ``template_store_ref``: a generated ``live_store_id`` (``store_id`` while the copy is
not destroyed, NULL after) and a unique index over it with the template let the database
refuse the second. PostgreSQL stores the column; SQLite and MariaDB compute it on read.
``launch_permission`` is CloudStack's table of accounts a private template is shared with
(updateTemplatePermissions, templatefilter=sharedexecutable).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cirrostack.db import base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "uq_template_store_ref_template_id_live_store_id"


def upgrade() -> None:
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    op.add_column(
        "template_store_ref",
        sa.Column(
            "live_store_id",
            base.BigId,
            sa.Computed("CASE WHEN destroyed THEN NULL ELSE store_id END", persisted=stored),
            nullable=True,
        ),
    )
    op.create_index(
        op.f(INDEX), "template_store_ref", ["template_id", "live_store_id"], unique=True
    )
    op.create_table(
        "launch_permission",
        sa.Column("id", base.BigId, autoincrement=True, nullable=False),
        sa.Column("template_id", base.BigId, nullable=False),
        sa.Column("account_id", base.BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_launch_permission_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["vm_template.id"],
            name=op.f("fk_launch_permission_template_id_vm_template"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launch_permission")),
        sa.UniqueConstraint(
            "template_id", "account_id", name=op.f("uq_launch_permission_template_id_account_id")
        ),
    )
    with op.batch_alter_table("launch_permission") as batch:
        batch.create_index(batch.f("ix_launch_permission_account_id"), ["account_id"])
        batch.create_index(batch.f("ix_launch_permission_template_id"), ["template_id"])


def downgrade() -> None:
    op.drop_table("launch_permission")
    op.drop_index(op.f(INDEX), "template_store_ref")
    with op.batch_alter_table("template_store_ref") as batch:
        batch.drop_column("live_store_id")
