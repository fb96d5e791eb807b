"""The migrations are the schema: they apply on every backend and match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cirrostack.db import migrate, models
from tests.conftest import Database


def test_migrations_reach_head(database: Database) -> None:
    assert migrate.current_revision(database.engine) == migrate.head_revision()


def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision()


def test_models_match_migrated_schema(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, models.metadata)
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(database: Database) -> None:
    config = migrate.alembic_config(database.engine)
    command.downgrade(config, "base")
    left = set(sa.inspect(database.engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    migrate.upgrade(database.engine)
    assert set(sa.inspect(database.engine).get_table_names()) >= set(models.metadata.tables)
