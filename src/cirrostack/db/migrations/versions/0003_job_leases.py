"""async_job: queue key, attempt and lease for the job engine

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("async_job") as batch:
        batch.add_column(sa.Column("queue_key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_expires", sa.DateTime(), nullable=True))
        batch.create_index("ix_async_job_job_status_queue_key", ["job_status", "queue_key"])
        batch.create_index("ix_async_job_job_status_lease_expires", ["job_status", "lease_expires"])


def downgrade() -> None:
    with op.batch_alter_table("async_job") as batch:
        batch.drop_index("ix_async_job_job_status_lease_expires")
        batch.drop_index("ix_async_job_job_status_queue_key")
        batch.drop_column("lease_expires")
        batch.drop_column("attempt")
        batch.drop_column("queue_key")
