"""Query helpers every list service uses: one page of rows plus the total count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import util as orm_util

M = TypeVar("M")


@dataclass(frozen=True)
class Page:
    """Which slice of a list to return; ``limit`` None means every row."""

    offset: int = 0
    limit: int | None = None


def paged(session: Session, statement: sa.Select[Any], page: Page) -> tuple[Sequence[Any], int]:
    """Run ``statement`` for one page and count all its rows; returns (scalars, total).

    A first page that is not full holds every row, so its length is the total and the count
    query is skipped (most lists of a small cloud: one statement instead of two).
    """
    sliced = statement.offset(page.offset)
    if page.limit is not None:
        sliced = sliced.limit(page.limit)
    rows = session.execute(sliced).scalars().all()
    if page.offset == 0 and (page.limit is None or len(rows) < page.limit):
        return rows, len(rows)
    total = session.execute(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    return rows, int(total)


def under_path(column: Any, prefix: str) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix``, compared exactly.

    Not LIKE: SQLite's LIKE ignores ASCII case, which would put ``/CASE/`` inside ``/case/``'s
    subtree. A substring equality is case-exact on SQLite and PostgreSQL; on MariaDB it follows
    the column's case-insensitive collation, where sibling names differing only in case cannot
    exist (see ``accounts.domains``).
    """
    return sa.func.substr(column, 1, len(prefix)) == prefix


def same_name(column: Any, name: str) -> sa.ColumnElement[bool]:
    """``column`` equals ``name`` regardless of case: every name filter and lookup by name.

    CloudStack's MySQL collation compares names case-insensitively, so ``name=pz-Cluster`` finds
    ``pz-cluster`` there; this does the same on SQLite and PostgreSQL too. Both sides go through
    the database's own ``lower()``, so the comparison agrees with the ``live_name`` unique keys
    (SQLite's ``lower()`` folds ASCII letters only).
    """
    return sa.func.lower(column) == sa.func.lower(sa.literal(name, sa.String()))


def named_as_given(*pairs: tuple[Any, str | None]) -> list[sa.ColumnElement[bool]]:
    """``same_name(column, value)`` for each (column, value) whose value was given."""
    return [same_name(column, value) for column, value in pairs if value is not None]


def equal_to_given(*pairs: tuple[Any, Any]) -> list[sa.ColumnElement[bool]]:
    """``column == value`` for each (column, value) whose value was given (is not None)."""
    return [column == value for column, value in pairs if value is not None]


def keyword_in(keyword: str, *columns: Any) -> sa.ColumnElement[bool]:
    """The ``keyword`` filter of a list: a case-insensitive match in any of ``columns``."""
    return sa.or_(*(matches_keyword(column, keyword) for column in columns))


def matches_keyword(column: Any, keyword: str) -> sa.ColumnElement[bool]:
    """Case-insensitive substring match, LIKE wildcards in ``keyword`` taken literally."""
    return sa.func.lower(column).contains(keyword.lower(), autoescape=True)


class NameValues:
    """Name/value rows of a ``*_details`` table grouped by owner, in one query (row id order).

    Built once per table at import (the statement is prebuilt with an expanding parameter, so
    a call pays neither its construction nor its compilation); ``of`` is what list answers
    call for a page of zones, clusters, hosts or offerings. ``owner``, ``name``, ``value`` are
    the table's columns; ``conditions`` narrow the rows (e.g. only displayed details).
    """

    def __init__(self, owner: Any, name: Any, value: Any, *conditions: sa.ColumnElement[bool]):
        self._statement = (
            sa.select(owner, name, value)
            .where(owner.in_(sa.bindparam("owners", expanding=True)), *conditions)
            .order_by(owner.table.c.id)
        )

    def of(self, session: Session, owner_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """The rows of each of ``owner_ids`` by name; an owner without rows is missing."""
        if not owner_ids:
            return {}
        found: dict[int, dict[str, str]] = {}
        rows = session.execute(self._statement, {"owners": sorted(set(owner_ids))})
        for ident, key, text in rows:
            found.setdefault(int(ident), {})[key] = text
        return found


def held(session: Session, model: type[M], ident: int | None) -> M | None:
    """The row of ``model`` with ``ident`` if this session already holds it, without any SQL.

    For per-request lookups that an earlier step of the same transaction has loaded (the
    caller's account, domain and role after authentication); None means "read it".
    """
    if ident is None:
        return None
    found = session.identity_map.get(orm_util.identity_key(model, ident))
    return found if isinstance(found, model) else None
