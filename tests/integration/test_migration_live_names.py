"""Migration 0004 on a database that already has rows: users get their account's domain, and
the live_name keys cover the existing rows (lowercased while live, NULL once removed)."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from alembic import command

from cirrostack.db import migrate
from tests.conftest import Database


def test_upgrade_fills_user_domains_and_live_names(database: Database) -> None:
    quote = database.engine.dialect.identifier_preparer.quote
    user_table, default = quote("user"), quote("default")
    config = migrate.alembic_config(database.engine)
    command.downgrade(config, "0003")
    removed = datetime.datetime(2026, 1, 1)
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO domain (id, uuid, name, path, level, child_count, next_child_seq,"
                " state, created) VALUES (1, 'd-1', 'ROOT', '/', 0, 1, 1, 'Active', :now),"
                " (2, 'd-2', 'Sub', '/Sub/', 1, 0, 1, 'Active', :now)"
            ),
            {"now": removed},
        )
        connection.execute(
            sa.text(
                f"INSERT INTO account (id, uuid, account_name, type, domain_id, state,"
                f" cleanup_needed, {default}, created, removed) VALUES"
                " (5, 'a-5', 'Team', 0, 2, 'enabled', false, false, :now, NULL),"
                " (6, 'a-6', 'team', 0, 2, 'enabled', false, false, :now, :now)"
            ),
            {"now": removed},
        )
        connection.execute(
            sa.text(
                f"INSERT INTO {user_table} (id, uuid, username, password, account_id, state,"
                f" is_registered, {default}, source, created) VALUES"
                " (7, 'u-7', 'Ann', 'x', 5, 'enabled', false, false, 'UNKNOWN', :now)"
            ),
            {"now": removed},
        )
    migrate.upgrade(database.engine)
    with database.engine.connect() as connection:
        user = connection.execute(sa.text(f"SELECT domain_id, live_name FROM {user_table}")).one()
        accounts = connection.execute(
            sa.text("SELECT id, live_name FROM account ORDER BY id")
        ).all()
    assert tuple(user) == (2, "ann")
    assert [tuple(row) for row in accounts] == [(5, "team"), (6, None)]


def test_upgrade_names_live_duplicates_instead_of_failing_obscurely(database: Database) -> None:
    config = migrate.alembic_config(database.engine)
    command.downgrade(config, "0003")
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO data_center (id, uuid, name, networktype, allocation_state,"
                " is_security_group_enabled, is_local_storage_enabled, router_mac_address,"
                " mac_address, type, sort_key, created) VALUES"
                " (1, 'z-1', 'Zone', 'Advanced', 'Enabled', false, false, 'm', 1, 'Core', 0,"
                " :now), (2, 'z-2', 'ZONE', 'Advanced', 'Enabled', false, false, 'm', 1, 'Core',"
                " 0, :now)"
            ),
            {"now": datetime.datetime(2026, 1, 1)},
        )
    with pytest.raises(RuntimeError, match=r"live data_center\.name: .* zone\. Rename"):
        migrate.upgrade(database.engine)
    with database.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM data_center WHERE id = 2"))
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
