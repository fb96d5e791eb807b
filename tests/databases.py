"""Scratch databases for tests on SQLite, PostgreSQL and MariaDB.

Server URLs come from CIRROSTACK_TEST_POSTGRES_URL / CIRROSTACK_TEST_MARIADB_URL, defaulting to
this project's machines (trust auth on 127.0.0.1:5432, root without password on 127.0.0.1:3306).
Each scratch database gets a random name and is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.accounts import vault
from cirrostack.db import engine as db_engine

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
def scratch_database(backend: str, directory: Path) -> Iterator[URL]:
    """Create an empty database on ``backend``, yield its URL, drop it afterwards."""
    if backend == "sqlite":
        yield make_url(f"sqlite:///{directory / f'cloud-{secrets.token_hex(4)}.db'}")
        return
    name = f"cirrostack_test_{secrets.token_hex(6)}"
    admin = db_engine.make_engine(server_url(backend), isolation_level="AUTOCOMMIT")
    quoted = f'"{name}"' if backend == "postgresql" else f"`{name}`"
    try:
        with admin.connect() as connection:
            if backend == "postgresql":
                connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            else:
                connection.execute(sa.text(f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4"))
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
