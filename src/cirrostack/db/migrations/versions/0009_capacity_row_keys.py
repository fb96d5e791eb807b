"""One capacity row per (resource, type): op_host_capacity (host_id, capacity_type) is unique

Storage capacity is claimed by one conditional UPDATE of a pool's row checked by rowcount; two
rows for one pool and type would let each claim pass against half the truth. The plain index
over the pair becomes a unique one (rows of zone-level types, with host_id NULL, stay distinct:
NULLs never collide in a unique index on any of the three backends).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_OLD = "ix_op_host_capacity_host_id_capacity_type"
_NEW = "uq_op_host_capacity_host_id_capacity_type"


def upgrade() -> None:
    # Before any DDL (MariaDB's is not transactional): would the key hold?
    found = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT host_id, capacity_type, count(*) FROM op_host_capacity "
                "WHERE host_id IS NOT NULL GROUP BY host_id, capacity_type HAVING count(*) > 1"
            )
        )
        .all()
    )
    if found:
        clashes = "; ".join(f"resource {row[0]} type {row[1]}" for row in found[:10])
        raise RuntimeError(
            "Cannot make op_host_capacity (host_id, capacity_type) unique: several rows hold "
            f"one resource's capacity of one type: {clashes}. Delete all but one of each "
            "(the next stats or recalculation run rewrites it), then upgrade again."
        )
    with op.batch_alter_table("op_host_capacity") as batch:
        batch.drop_index(_OLD)
        batch.create_index(_NEW, ["host_id", "capacity_type"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("op_host_capacity") as batch:
        batch.drop_index(_NEW)
        batch.create_index(_OLD, ["host_id", "capacity_type"], unique=False)
