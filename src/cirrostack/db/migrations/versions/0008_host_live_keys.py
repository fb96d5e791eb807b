"""A live host's name and address are unique in its zone (keys over live rows)

updateHost checked a new name in Python and addHost picked the first address of the pod no
live host had: parallel requests all passed (several hosts of one name, several hosts on one
address). As migration 0004 did for other names, generated columns hold the lowercased name
(``live_name``) and the address (``live_address``) while the host is live, NULL once removed,
and a unique index over each with the zone's id lets the database decide. PostgreSQL stores
them (it has only stored generated columns); SQLite and MariaDB compute them on read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: the generated column, what it holds while live, its width, its unique index over the zone.
COLUMNS = (
    ("live_name", "lower(name)", 255, "uq_host_data_center_id_live_name"),
    ("live_address", "private_ip_address", 40, "uq_host_data_center_id_live_address"),
)


def upgrade() -> None:
    # Before any DDL (MariaDB's is not transactional): would the keys hold?
    for column, expression, _width, _index in COLUMNS:
        _refuse_duplicates(column, expression)
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    for column, expression, width, index in COLUMNS:
        op.add_column(
            "host",
            sa.Column(
                column,
                sa.String(length=width),
                sa.Computed(f"CASE WHEN removed IS NULL THEN {expression} END", persisted=stored),
                nullable=True,
            ),
        )
        op.create_index(op.f(index), "host", ["data_center_id", column], unique=True)


def _refuse_duplicates(column: str, expression: str) -> None:
    """Stop with a clear message when live hosts already break the new key (the races before
    this revision could leave them); the operator renames or deletes one of each."""
    found = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT data_center_id, {expression}, count(*) FROM host "  # noqa: S608
                f"WHERE removed IS NULL GROUP BY data_center_id, {expression} "
                "HAVING count(*) > 1"
            )
        )
        .all()
    )
    if found:
        clashes = "; ".join(f"zone {zone}: {value}" for zone, value, _count in found[:10])
        raise RuntimeError(
            f"Cannot add the unique key over live host.{column}: live hosts of one zone share "
            f"it: {clashes}. Rename or delete all but one of each, then upgrade again."
        )


def downgrade() -> None:
    for _column, _expression, _width, index in reversed(COLUMNS):
        op.drop_index(op.f(index), "host")
    # One batch for both: on SQLite it copies the table, and a generated column left behind
    # cannot be copied into.
    with op.batch_alter_table("host") as batch:
        for column, _expression, _width, _index in reversed(COLUMNS):
            batch.drop_column(column)
