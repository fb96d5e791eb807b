"""user.incorrect_login_attempts: failed logins since the last good one

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on every backend: a batch copy of "user" on SQLite would fail on the
    # generated live_name column (0004) and cascade into api_session.
    op.add_column(
        "user",
        sa.Column("incorrect_login_attempts", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE "user" DROP COLUMN incorrect_login_attempts')
        return
    op.drop_column("user", "incorrect_login_attempts")
