"""api_session: login sessions shared by every management server

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_session",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("session_key_hash", sa.String(length=64), nullable=False),
        sa.Column("jsessionid_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("last_access", sa.DateTime(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_api_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_session")),
        sa.UniqueConstraint("session_key_hash", name=op.f("uq_api_session_session_key_hash")),
    )
    op.create_index(op.f("ix_api_session_user_id"), "api_session", ["user_id"], unique=False)


def downgrade() -> None:
    # The table's indexes go with it (dropping the index first fails on MariaDB).
    op.drop_table("api_session")
