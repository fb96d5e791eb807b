"""Scratch databases for tests on SQLite, PostgreSQL and MariaDB.

Server URLs come from CIRROSTACK_TEST_POSTGRES_URL / CIRROSTACK_TEST_MARIADB_URL, defaulting to
this project's machines (trust auth on 127.0.0.1:5432, root without password on 127.0.0.1:3306).
Each scratch database gets a random name and is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.accounts import vault
from cirrostack.db import engine as db_engine
from cirrostack.db import migrate

BACKENDS = ("sqlite", "postgresql", "mariadb")

_SERVER_URLS = {
    "postgresql": (
        "CIRROSTACK_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
    "mariadb": ("CIRROSTACK_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def under_ci() -> bool:
    """True when a missing database server must fail the run rather than skip tests."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def server_url(backend: str) -> URL:
    variable, default = _SERVER_URLS[backend]
    return db_engine.normalise_url(os.environ.get(variable, default))


def unreachable_reason(backend: str) -> str | None:
    """None when the backend's server answers, else why it does not."""
    if backend == "sqlite":
        return None
    engine = db_engine.make_engine(server_url(backend))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return (
            f"{backend} server at {server_url(backend).render_as_string()} unreachable: {exc.orig}"
        )
    finally:
        engine.dispose()
    return None


@contextmanager
def scratch_database(
    backend: str, directory: Path, template: URL | None = None, path: Path | None = None
) -> Iterator[URL]:
    """Create a database on ``backend``, yield its URL, drop it afterwards.

    Empty, or a copy of ``template`` (a database nobody is connected to): SQLite copies the
    file (to ``path`` when given), PostgreSQL creates it ``TEMPLATE`` the other, MariaDB (no
    templates) replays the other's ``SHOW CREATE TABLE`` and copies its rows, which is still
    several times faster than running the migrations.
    """
    if backend == "sqlite":
        target = path or directory / f"cloud-{secrets.token_hex(4)}.db"
        if template is not None:
            shutil.copyfile(str(template.database), target)
        yield make_url(f"sqlite:///{target}")
        return
    name = f"cirrostack_test_{secrets.token_hex(6)}"
    admin = db_engine.make_engine(server_url(backend), isolation_level="AUTOCOMMIT")
    quoted = f'"{name}"' if backend == "postgresql" else f"`{name}`"
    try:
        with admin.connect() as connection:
            if backend == "postgresql":
                copied = f' TEMPLATE "{template.database}"' if template is not None else ""
                connection.execute(sa.text(f"CREATE DATABASE {quoted}{copied}"))
            else:
                connection.execute(sa.text(f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4"))
                if template is not None:
                    _replay_mariadb(connection, str(template.database), name)
        yield server_url(backend).set(database=name)
    finally:
        with admin.connect() as connection:
            if backend == "postgresql":
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            else:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}"))
        admin.dispose()


def sessions_for(engine: sa.Engine) -> sessionmaker[Session]:
    """A server's session factory for ``engine``, with a server key of its own (a fresh one)."""
    return db_engine.make_sessionmaker(engine, info=vault.Vault(vault.new_key()).session_info())


def _replay_mariadb(connection: sa.Connection, source: str, target: str) -> None:
    """Create ``source``'s tables in ``target`` and copy their rows (a dump and replay)."""
    tables = connection.execute(
        sa.text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = :schema AND table_type = 'BASE TABLE'"
        ),
        {"schema": source},
    ).scalars()
    connection.execute(sa.text(f"USE `{target}`"))
    connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
    for table in list(tables):
        created = connection.execute(sa.text(f"SHOW CREATE TABLE `{source}`.`{table}`")).one()[1]
        connection.exec_driver_sql(created)
        connection.execute(
            sa.text(f"INSERT INTO `{target}`.`{table}` SELECT * FROM `{source}`.`{table}`")
        )
    connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))


@contextmanager
def migrated_template(backend: str, directory: Path) -> Iterator[URL]:
    """A scratch database holding the migrated schema, to be copied and never connected to."""
    with scratch_database(backend, directory) as url:
        engine = db_engine.make_engine(url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        yield url


def wipe(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Delete every row of every table (server backends), keeping the schema."""
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            joined = ", ".join(f'"{name}"' for name in tables)
            connection.execute(sa.text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
            return
        connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for name in tables:
            connection.execute(sa.text(f"DELETE FROM `{name}`"))
        connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))


@dataclass(frozen=True)
class Database:
    """A migrated, empty database for one test."""

    backend: str
    url: URL
    engine: sa.Engine
    sessions: sessionmaker[Session]
