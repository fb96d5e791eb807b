"""Unique keys as the arbiter of races: which key an insert or update violated, on any backend.

A check in Python before an insert cannot settle a race on PostgreSQL or MariaDB: two requests
both find the name free and both insert. The database's unique keys settle it; the loser's flush
raises ``IntegrityError``, and ``refusing`` turns a violation of a known key into the clear
CloudStack error the caller chose. Each backend names the key differently:

- PostgreSQL: the driver's diagnostics carry the constraint (or unique index) name;
- MariaDB/MySQL: ``Duplicate entry '...' for key '<name>'`` (MySQL 8: ``'<table>.<name>'``);
- SQLite: ``UNIQUE constraint failed: <table>.<column>, ...``, the columns, not the name, so
  the name is looked up among the unique indexes and constraints of the models.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import models

_MYSQL_KEY = re.compile(r"Duplicate entry .* for key '(?:[^'.]+\.)?([^'.]+)'")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: (.+)$")


def violated_key(exc: sa.exc.IntegrityError) -> str | None:
    """The name of the unique key ``exc`` reports as violated; None for any other failure.

    Called where a flush failed; never raises.
    """
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        return diag.constraint_name if sqlstate == "23505" else None
    text = str(exc.orig)
    found = _MYSQL_KEY.search(text)
    if found is not None:
        return found.group(1)
    found = _SQLITE_COLUMNS.search(text.strip())
    if found is not None:
        return _SQLITE_NAMES.get(tuple(part.strip() for part in found.group(1).split(",")))
    return None


def _sqlite_names() -> dict[tuple[str, ...], str]:
    """``("table.column", ...)`` → key name, for every unique index and constraint."""
    names: dict[tuple[str, ...], str] = {}
    for table in models.metadata.tables.values():
        keys: list[tuple[str, list[sa.Column[object]]]] = [
            (str(index.name), list(index.columns)) for index in table.indexes if index.unique
        ]
        keys += [
            (str(constraint.name), list(constraint.columns))
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        ]
        keys += [
            (f"uq_{table.name}_{column.name}", [column])
            for column in table.columns
            if column.unique
        ]
        for name, columns in keys:
            names[tuple(f"{table.name}.{column.name}" for column in columns)] = name
    return names


_SQLITE_NAMES = _sqlite_names()


@contextmanager
def translating(key: str | tuple[str, ...], refusal: errors.CloudError) -> Iterator[None]:
    """Within the block, a violation of unique key ``key`` (or of any of several keys guarding
    one rule) raises ``refusal`` instead; any other integrity failure propagates unchanged."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        if violated_key(exc) in ((key,) if isinstance(key, str) else key):
            raise refusal from exc
        raise


@contextmanager
def refusing(
    session: Session, key: str | tuple[str, ...], refusal: errors.CloudError
) -> Iterator[None]:
    """Run the block's changes in a savepoint; a violation of unique key ``key`` (or of any of
    several keys guarding one rule) raises ``refusal`` instead, with the block's changes undone
    and the transaction still usable.

    Used around an insert or rename whose name a unique key guards (``session.add(row)`` or
    ``row.name = new`` inside the block): the database, not a check beforehand, decides
    between concurrent requests. Changes pending before the block are flushed first, outside
    it. Any other integrity failure propagates unchanged.
    """
    with translating(key, refusal), session.begin_nested():
        yield
