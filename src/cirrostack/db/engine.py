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

import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as exc_
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import failures

#: The execution option that marks a read-only transaction (``reading``).
READ_ONLY = "cirrostack_read_only"
#: Pooled connections kept open per engine (and as many again in overflow).
POOL_SIZE = 20

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
        writer = _Writer()
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", writer.begin)
        event.listen(engine, "commit", writer.commit)
        event.listen(engine, "rollback", writer.rollback)
        event.listen(engine, "handle_error", _mark_read_only)
        event.listen(engine.pool, "reset", writer.reset)
        event.listen(engine.pool, "invalidate", writer.invalidate)
        event.listen(engine.pool, "close", writer.close)
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
    # The pragma stays set on the connection: it is sent only when it changes.
    read_only = bool(connection.get_execution_options().get(READ_ONLY))
    if connection.info.get(_QUERY_ONLY) is not read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        connection.info[_QUERY_ONLY] = read_only
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


class _Writer:
    """SQLite's one write lock, taken in this process first: writers queue on a Python lock.

    Threads of one server that wait on SQLite's own lock wait in its busy handler, which sleeps
    1, 2, 5, 10 ... ms between looks, so a burst of short writes (the job workers finishing
    jobs, API writes beside them) spends most of its time asleep. Here a writer's "begin" waits
    on a lock released the moment the holder's COMMIT or ROLLBACK has run. Only the lock's
    order changes: a nested write in the thread holding it, or a wait of more than the busy
    timeout, goes on to SQLite's lock as before; other processes still meet SQLite's lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def begin(self, connection: Any) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY))
        mine = self._owner == threading.get_ident()
        if not read_only and not mine and self._lock.acquire(timeout=_BUSY_SECONDS):
            self._owner = threading.get_ident()
            connection.info[_HOLDS] = True
        try:
            _begin_immediate(connection)
        except BaseException:
            self._release(connection.info)
            raise

    def commit(self, connection: Any) -> None:
        self._end(connection, "COMMIT")

    def rollback(self, connection: Any) -> None:
        self._end(connection, "ROLLBACK")

    def reset(self, _dbapi_connection: Any, record: Any, _state: Any) -> None:
        self._release(record.info)

    def invalidate(self, _dbapi_connection: Any, record: Any, _exception: Any) -> None:
        self._release(record.info)

    def close(self, _dbapi_connection: Any, record: Any) -> None:
        self._release(record.info)

    def _end(self, connection: Any, statement: str) -> None:
        if not connection.info.get(_HOLDS):
            return
        try:  # end the transaction here, so that the lock is free only once it has ended
            dbapi = connection.connection.dbapi_connection
            if dbapi is not None and dbapi.in_transaction:
                dbapi.execute(statement)
        except sqlite3.Error as exc:  # as SQLAlchemy raises it (failures.kind reads it)
            raise exc_.DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
        finally:
            self._release(connection.info)

    def _release(self, info: dict[str, Any]) -> None:
        if info.pop(_HOLDS, False):
            self._owner = None
            self._lock.release()


_HOLDS = "cirrostack_holds_write_lock"
_QUERY_ONLY = "cirrostack_query_only"
_BUSY_SECONDS = 30.0
