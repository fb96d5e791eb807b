"""Engines and sessions for the three supported databases.

Called at the composition root (server start-up, CLI, tests). A URL picks the backend:

- ``sqlite:///path/cloud.db``: the embedded default; WAL journal, foreign keys on, and a busy
  timeout so that several threads of one server share the file. A transaction that may write
  begins IMMEDIATE (it takes the only write lock at once); one opened by ``reading`` begins
  DEFERRED and never waits for, nor blocks, a writer (WAL readers see their snapshot);
- ``postgresql+psycopg://user@host/db`` (``postgresql://`` is accepted and means psycopg 3);
- ``mysql+pymysql://user@host/db`` or ``mariadb+pymysql://...`` (``mysql://`` means PyMySQL).

A transaction opened by ``reading`` refuses writes on every backend (SQLite ``query_only``,
PostgreSQL ``BEGIN READ ONLY``, MariaDB ``START TRANSACTION READ ONLY``), so a command wrongly
declared read-only fails at its first write, everywhere alike; ``db.failures`` classifies that
refusal as ``Kind.READ_ONLY`` (our bug, a 530), never as an outage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import failures

#: The execution option that marks a read-only transaction (``reading``).
READ_ONLY = "cirrostack_read_only"
#: Pooled connections kept open per engine (and as many again in overflow).
POOL_SIZE = 20
#: Where a SQLite connection's record keeps the ``query_only`` pragma it was last given.
_QUERY_ONLY = "cirrostack_query_only"

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def normalise_url(url: str | URL) -> URL:
    """Return ``url`` with the driver cirrostack ships for its backend filled in."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the per-backend settings cirrostack relies on."""
    parsed = normalise_url(url)
    # As many pooled connections as threads that use them at once (the API's worker threads,
    # job workers, the monitor): an overflow connection is closed when returned, so a pool
    # smaller than the concurrency reconnects (SQLite: four pragmas; PostgreSQL: a backend
    # process) on most requests under load.
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_SIZE)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        event.listen(engine, "handle_error", _mark_read_only)
        return engine
    engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        event.listen(engine, "begin", _begin_mariadb)
    return engine


def make_sessionmaker(
    engine: Engine, *, info: Mapping[str, object] | None = None
) -> sessionmaker[Session]:
    """A session factory whose sessions keep loaded attributes after commit.

    ``info`` becomes every session's ``Session.info``: how the composition root hands the
    server key to services (``accounts.vault.Vault.session_info``).
    """
    return sessionmaker(engine, expire_on_commit=False, info=dict(info or {}))


def reading(sessions: sessionmaker[Session]) -> Session:
    """A session for work that only reads: on SQLite its transactions begin DEFERRED.

    Called by transaction owners for read-only commands and lookups (authentication). It takes
    no write lock, so it runs beside a writer; writing in it is refused on SQLite ("attempt to
    write a readonly database"). Other backends are unaffected.
    """
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        return sessions()
    options: dict[str, object] = {READ_ONLY: True}
    if bind.dialect.name == "postgresql":
        options["postgresql_readonly"] = True  # psycopg begins READ ONLY (no extra statement)
    return sessions(bind=bind.execution_options(**options))


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that "begin" below is the only
    # BEGIN; IMMEDIATE takes the write lock at once, which turns SQLite's lock-upgrade
    # deadlocks (two readers both wanting to write) into a plain wait on busy_timeout.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # A read-only transaction is also made query_only, so that a command wrongly declared
    # read-only fails loudly at its first write instead of racing for the lock upgrade.
    # The pragma is sent only when it changes: most calls are reads, on the same connections.
    read_only = bool(connection.get_execution_options().get(READ_ONLY))
    held = connection.connection.info
    if held.get(_QUERY_ONLY) is not read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        held[_QUERY_ONLY] = read_only
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def _begin_mariadb(connection: Any) -> None:
    # PyMySQL begins a transaction implicitly; a read-only one is begun explicitly instead.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("START TRANSACTION READ ONLY")


def _mark_read_only(context: Any) -> None:
    # SQLite says "attempt to write a readonly database" (SQLITE_READONLY) both for a write in
    # a query_only transaction and for a file it may not write: mark the first, our bug.
    connection = context.connection
    if connection is not None and connection.get_execution_options().get(READ_ONLY):
        failures.mark_read_only(context.original_exception)
