"""What a database error means, on each backend: retry it, a duplicate, an outage, or a bug.

Called by the transaction owners (``db.transactions``) to decide whether to run a transaction
again, and by the API's error mapping (``api.errors``) to answer a failure as CloudStack would.
Only driver error codes are read, never message texts (except MariaDB's duplicate key name,
which its driver gives in no other form).

    Kind.CONFLICT      deadlock, serialisation failure, lock wait timeout, SQLite busy:
                       the transaction was rolled back and may succeed if run again
    Kind.DUPLICATE     a unique key refused a row (``db.integrity`` names the key)
    Kind.UNAVAILABLE   no connection, the database is gone or shutting down
    Kind.FULL          the disk (or the database file's size limit) is full
    Kind.READ_ONLY     a write inside a transaction we opened read-only: a command declared
                       (or derived) read-only that writes, a bug answered as an internal error
    Kind.OTHER         anything else: a bug, answered as an internal error

A read-only transaction refusing a write is told apart from a read-only database (an outage:
the file's permissions, a read-only mount): PostgreSQL answers 25006 and MariaDB 1792 only for
the former; SQLite answers SQLITE_READONLY for both, so ``db.engine`` marks the error raised
in a transaction it made ``query_only`` (``mark_read_only``) and only a marked one is ours.
"""

from __future__ import annotations

import enum

from sqlalchemy import exc as sa_exc


class Kind(enum.Enum):
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    UNAVAILABLE = "unavailable"
    FULL = "full"
    READ_ONLY = "read-only transaction"
    OTHER = "other"


#: PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected.
_PG_CONFLICT = frozenset({"40001", "40P01"})
#: disk_full, out_of_memory-class insufficient resources (53xxx) are treated as full.
_PG_FULL_CLASS = "53"
#: connection exceptions (08xxx), admin/crash shutdown, cannot connect now, database gone.
_PG_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "3D000"})
#: read_only_sql_transaction: a write (or a locking read) in a READ ONLY transaction.
_PG_READ_ONLY = "25006"
#: MariaDB: deadlock, lock wait timeout, record changed since read (snapshot isolation).
_MY_CONFLICT = frozenset({1213, 1205, 1020})
#: MariaDB: disk full, table full, error writing file, out of resources.
_MY_FULL = frozenset({1021, 1114, 3, 1041})
#: MariaDB: connection lost/refused/killed, unknown database, server shutdown.
_MY_UNAVAILABLE = frozenset({2002, 2003, 2006, 2013, 2055, 1927, 1049, 1053, 1045})
#: MariaDB: ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION.
_MY_READ_ONLY = 1792
#: SQLite: BUSY and LOCKED (and their extended codes, low byte 5 and 6).
_SQLITE_CONFLICT = frozenset({5, 6})
_SQLITE_FULL = 13
#: SQLite: I/O error, cannot open, read-only database (a file or directory gone, a file
#: without write permission) unless marked as raised in our query_only transaction.
_SQLITE_UNAVAILABLE = frozenset({10, 14, 8})
#: Plain SQLITE_READONLY, as query_only refuses a write; its extended codes (cannot lock,
#: cannot initialise the WAL index, directory read-only...) are the file's, an outage.
_SQLITE_READONLY = 8
#: The attribute ``mark_read_only`` sets on a DBAPI error raised in a read-only transaction.
_READ_ONLY_MARK = "cirrostack_in_read_only_transaction"


def kind(exc: BaseException) -> Kind:
    """The meaning of ``exc`` (any exception; non-database ones are OTHER)."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return Kind.OTHER
    if isinstance(exc, sa_exc.IntegrityError):
        return Kind.DUPLICATE if _is_unique(exc.orig) else Kind.OTHER
    found = _by_code(exc.orig)
    if found is not Kind.OTHER:
        return found
    if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
        return Kind.UNAVAILABLE
    return Kind.OTHER


def retryable(exc: BaseException) -> bool:
    """True if running the whole transaction again may succeed (a lost race)."""
    return kind(exc) is Kind.CONFLICT


def mark_read_only(orig: BaseException) -> None:
    """Record that ``orig`` (a DBAPI error) was raised in a transaction opened read-only.

    Called by ``db.engine``'s error hook for SQLite, whose read-only refusal does not say
    whether the transaction or the file was read-only.
    """
    setattr(orig, _READ_ONLY_MARK, True)


def _by_code(orig: BaseException | None) -> Kind:
    source = driver(orig)
    if source == "psycopg":
        sqlstate = getattr(orig, "sqlstate", None)
        if isinstance(sqlstate, str):
            return _postgresql(sqlstate)
        # libpq's own failures (no server answer: refused, reset, rejected at connect)
        # carry no SQLSTATE.
        return Kind.UNAVAILABLE if type(orig).__name__ == "OperationalError" else Kind.OTHER
    if source == "sqlite3":
        code = getattr(orig, "sqlite_errorcode", None)
        if not isinstance(code, int):
            return Kind.OTHER
        if code == _SQLITE_READONLY and getattr(orig, _READ_ONLY_MARK, False):
            return Kind.READ_ONLY
        return _sqlite(code)
    if source == "pymysql":
        args: tuple[object, ...] = getattr(orig, "args", ())
        return _mariadb(args[0]) if args and isinstance(args[0], int) else Kind.OTHER
    return Kind.OTHER


def driver(orig: BaseException | None) -> str:
    """The DBAPI module that raised ``orig``: psycopg, pymysql or sqlite3."""
    return type(orig).__module__.split(".")[0] if orig is not None else ""


def _postgresql(sqlstate: str) -> Kind:
    if sqlstate == _PG_READ_ONLY:
        return Kind.READ_ONLY
    if sqlstate in _PG_CONFLICT:
        return Kind.CONFLICT
    if sqlstate.startswith(_PG_FULL_CLASS):
        return Kind.FULL
    if sqlstate.startswith("08") or sqlstate in _PG_UNAVAILABLE:
        return Kind.UNAVAILABLE
    return Kind.OTHER


def _mariadb(code: int) -> Kind:
    if code == _MY_READ_ONLY:
        return Kind.READ_ONLY
    if code in _MY_CONFLICT:
        return Kind.CONFLICT
    if code in _MY_FULL:
        return Kind.FULL
    if code in _MY_UNAVAILABLE:
        return Kind.UNAVAILABLE
    return Kind.OTHER


def _sqlite(code: int) -> Kind:
    primary = code & 0xFF
    if primary in _SQLITE_CONFLICT:
        return Kind.CONFLICT
    if primary == _SQLITE_FULL:
        return Kind.FULL
    if primary in _SQLITE_UNAVAILABLE:
        return Kind.UNAVAILABLE
    return Kind.OTHER


def _is_unique(orig: BaseException | None) -> bool:
    source = driver(orig)
    if source == "psycopg":
        return getattr(orig, "sqlstate", None) == "23505"
    if source == "sqlite3":
        # SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY
        return getattr(orig, "sqlite_errorcode", None) in (2067, 1555)
    args: tuple[object, ...] = getattr(orig, "args", ())
    return source == "pymysql" and bool(args) and args[0] == 1062
