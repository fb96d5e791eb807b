"""async_job_resource (the rows a job holds), async_job_queue_key (a job's queue keys),
async_job.last_activity and async_job.on_lost

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "async_job_resource",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", BigId, nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", BigId, nullable=False),
        sa.Column("state_column", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["async_job.id"],
            name=op.f("fk_async_job_resource_job_id_async_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_async_job_resource")),
        sa.UniqueConstraint(
            "resource_type",
            "resource_id",
            name=op.f("uq_async_job_resource_resource_type_resource_id"),
        ),
    )
    op.create_index(
        op.f("ix_async_job_resource_job_id"), "async_job_resource", ["job_id"], unique=False
    )
    op.create_table(
        "async_job_queue_key",
        sa.Column("job_id", BigId, nullable=False),
        sa.Column("queue_key", sa.String(length=255), nullable=False),
        sa.Column("running_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["async_job.id"],
            name=op.f("fk_async_job_queue_key_job_id_async_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "queue_key", name=op.f("pk_async_job_queue_key")),
        sa.UniqueConstraint("running_key", name=op.f("uq_async_job_queue_key_running_key")),
    )
    op.create_index(
        op.f("ix_async_job_queue_key_queue_key"),
        "async_job_queue_key",
        ["queue_key"],
        unique=False,
    )
    with op.batch_alter_table("async_job") as batch:
        batch.add_column(sa.Column("last_activity", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("on_lost", sa.String(length=16), nullable=False, server_default="rerun")
        )
    # Unfinished jobs were active when they were last renewed.
    op.execute("UPDATE async_job SET last_activity = last_updated WHERE job_status = 0")
    # Unfinished jobs keep their one key; a running one holds it.
    op.execute(
        "INSERT INTO async_job_queue_key (job_id, queue_key, running_key) "
        "SELECT id, queue_key, CASE WHEN job_executing_msid IS NULL THEN NULL "
        "ELSE queue_key END FROM async_job WHERE job_status = 0 AND queue_key IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("async_job") as batch:
        batch.drop_column("on_lost")
        batch.drop_column("last_activity")
    # The tables' indexes go with them (dropping an index first fails on MariaDB).
    op.drop_table("async_job_queue_key")
    op.drop_table("async_job_resource")
