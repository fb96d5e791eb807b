"""Composite indexes for the storage allocator's narrowing of a zone's pools

A placement reads the pools of one cluster (or pod) and the zone-wide ones of a zone
(``allocators.narrowing``): two equality arms on ``(data_center_id, cluster_id)`` and
``(data_center_id, pod_id)``. With only single-column indexes a planner without statistics
(SQLite; PostgreSQL and MariaDB right after a bulk load) read every pool of the zone through
the zone index to keep twenty.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_storage_pool_data_center_id_cluster_id": ["data_center_id", "cluster_id"],
    "ix_storage_pool_data_center_id_pod_id": ["data_center_id", "pod_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "storage_pool", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, "storage_pool")
