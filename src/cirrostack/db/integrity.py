"""Unique keys the API user can run into, and the message each one answers.

Called by the API's error mapping (``api.errors.from_exception``) when the database refuses a
row: the check before an insert is only a courtesy, the unique key is what settles a race, so
the losing request must get the same clear CloudStack error (431) as a sequential duplicate.

``DUPLICATES`` is the one table from constraint name to message; add a row with every unique
key a request can hit. The name comes from the driver (PostgreSQL's diagnostics, MariaDB's
"for key" text) or, on SQLite, which reports only ``table.column`` lists (or ``index 'name'``
for an expression index), from the models' metadata by table and columns.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cirrostack import errors
from cirrostack.db import failures, models

DUPLICATES: dict[str, str] = {
    "uq_host_pod_ref_name_data_center_id": "A pod with this name already exists in the zone",
    "uq_cluster_pod_id_name": "A cluster with this name already exists in the pod",
    "uq_user_api_key": "This API key is already in use; generate the keys again",
    "uq_host_guid": "A host with this agent guid already exists",
    "uq_host_details_host_id_name": "The host already has a detail with this name",
    "uq_resource_tags_resource_id_resource_type_key": (
        "The resource already has a tag with this key"
    ),
}

_MARIADB_KEY = re.compile(r"for key '(?:[^'.]*\.)?([^'.]+)'")
_SQLITE_INDEX = re.compile(r"UNIQUE constraint failed: index '([^']+)'")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: (.+)$")


class Duplicate(errors.InvalidParameterValue):
    """A unique key refused the row: the name (or other unique value) is already taken."""

    def __init__(self, constraint: str, message: str) -> None:
        super().__init__(message)
        self.constraint = constraint


def duplicate_of(exc: BaseException) -> Duplicate | None:
    """The typed error for a unique violation on a known key; None for anything else."""
    if not isinstance(exc, sa_exc.IntegrityError) or failures.kind(exc) is not (
        failures.Kind.DUPLICATE
    ):
        return None
    name = constraint_name(exc)
    if name is None or name not in DUPLICATES:
        return None
    return Duplicate(name, DUPLICATES[name])


def constraint_name(exc: sa_exc.IntegrityError) -> str | None:
    """The name of the unique key ``exc`` names, on any backend; None when it cannot tell."""
    diag = getattr(exc.orig, "diag", None) if failures.driver(exc.orig) == "psycopg" else None
    if diag is not None:
        found = getattr(diag, "constraint_name", None)
        return found if isinstance(found, str) else None
    text = str(exc.orig)
    mariadb = _MARIADB_KEY.search(text)
    if mariadb is not None:
        return mariadb.group(1)
    index = _SQLITE_INDEX.search(text)
    if index is not None:
        return index.group(1)
    columns = _SQLITE_COLUMNS.search(text)
    return _by_columns(columns.group(1)) if columns is not None else None


def _by_columns(listing: str) -> str | None:
    """SQLite's ``t.a, t.b`` list → the name of the unique key of ``t`` over exactly a, b."""
    pairs = [part.strip().split(".", 1) for part in listing.split(",")]
    if any(len(pair) != 2 for pair in pairs):
        return None
    tables = {table for table, _ in pairs}
    if len(tables) != 1:
        return None
    table = models.metadata.tables.get(tables.pop())
    if table is None:
        return None
    wanted = {column for _, column in pairs}
    for key in _unique_keys(table):
        if key[1] == wanted:
            return key[0]
    return None


def _unique_keys(table: sa.Table) -> list[tuple[str, set[str]]]:
    keys = [
        (str(c.name), {column.name for column in c.columns})
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint) and c.name
    ]
    keys += [
        (str(i.name), {column.name for column in i.columns})
        for i in table.indexes
        if i.unique and i.name
    ]
    return keys
