"""Unique names over live rows: a removed-aware, case-insensitive key per CloudStack name rule

Each table whose names CloudStack keeps unique gets a generated column ``live_name``, the
lowercased name while the row is live and NULL once it is removed, and a unique index over it
with the parent's id. NULLs never collide, so removed rows free their name; MariaDB has no
partial indexes, and a generated column is the one form all three backends index. PostgreSQL
(before 18) only has stored generated columns; SQLite and MariaDB compute them on read.
``user`` gets ``domain_id`` (filled from its account): usernames are unique per domain.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: table, its name column, the parent columns the name is unique under.
KEYS = (
    ("domain", "name", ("parent",)),
    ("account", "account_name", ("domain_id",)),
    ("user", "username", ("domain_id",)),
    ("data_center", "name", ()),
    ("host_pod_ref", "name", ("data_center_id",)),
    ("cluster", "name", ("pod_id",)),
)


def upgrade() -> None:
    # First, before any DDL (MariaDB's is not transactional): would the keys hold?
    for table, column, parents in KEYS:
        _refuse_duplicates(table, column, parents)
    _add_user_domain_id()
    user, account = (
        sa.table("user", sa.column("domain_id"), sa.column("account_id")),
        sa.table("account", sa.column("id"), sa.column("domain_id")),
    )
    op.execute(
        user.update().values(
            domain_id=sa.select(account.c.domain_id)
            .where(account.c.id == user.c.account_id)
            .scalar_subquery()
        )
    )
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    for table, column, parents in KEYS:
        op.add_column(
            table,
            sa.Column(
                "live_name",
                sa.String(length=255),
                sa.Computed(
                    f"CASE WHEN removed IS NULL THEN lower({column}) END", persisted=stored
                ),
                nullable=True,
            ),
        )
        op.create_index(
            op.f(f"uq_{table}_{'_'.join(parents) + '_' if parents else ''}live_name"),
            table,
            [*parents, "live_name"],
            unique=True,
        )


def _refuse_duplicates(table: str, column: str, parents: tuple[str, ...]) -> None:
    """Stop with a clear message when live rows already break the new key (check-then-insert
    races before this revision could leave them); the operator renames or deletes one."""
    rows = sa.table(table, sa.column(column), sa.column("removed"), *map(sa.column, parents))
    name = sa.func.lower(rows.c[column])
    groups = [rows.c[parent] for parent in parents]
    source: sa.FromClause = rows
    if table == "user":  # no domain_id yet: the account's
        account = sa.table("account", sa.column("id"), sa.column("domain_id"))
        rows = sa.table(table, sa.column(column), sa.column("removed"), sa.column("account_id"))
        name, groups = sa.func.lower(rows.c[column]), [account.c.domain_id]
        source = rows.join(account, account.c.id == rows.c.account_id)
    clashes = (
        op.get_bind()
        .execute(
            sa.select(*groups, name, sa.func.count())
            .select_from(source)
            .where(rows.c.removed.is_(None))
            .group_by(*groups, name)
            .having(sa.func.count() > 1)
        )
        .all()
    )
    if clashes:
        found = "; ".join(", ".join(str(value) for value in clash[:-1]) for clash in clashes[:10])
        raise RuntimeError(
            f"Cannot add the unique key over live {table}.{column}: live rows share a name "
            f"(ignoring case) under the same {', '.join(parents) or 'cloud'}: {found}. "
            "Rename or delete all but one of each, then upgrade again."
        )


def _add_user_domain_id() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a reference inline; alembic would recreate the table, whose
        # DROP would cascade into api_session.
        op.execute('ALTER TABLE "user" ADD COLUMN domain_id INTEGER REFERENCES domain (id)')
        return
    op.add_column("user", sa.Column("domain_id", BigId, nullable=True))
    op.create_foreign_key(op.f("fk_user_domain_id_domain"), "user", "domain", ["domain_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        # MariaDB keeps the unique index for the foreign key until the key goes.
        op.drop_constraint(op.f("fk_user_domain_id_domain"), "user", type_="foreignkey")
    for table, _column, parents in reversed(KEYS):
        op.drop_index(
            op.f(f"uq_{table}_{'_'.join(parents) + '_' if parents else ''}live_name"), table
        )
        with op.batch_alter_table(table) as batch:
            batch.drop_column("live_name")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("domain_id")
