"""listConfigurations and updateConfiguration as services: search the rows, validate and write.

Called by ``api.commands.configuration`` with the session of the request; never commits.
Access (root admins only) is the command's declaration; scope objects arrive resolved to a
``store.Place`` (or None for the global value).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.config import catalogue, definitions, errors, settings, store
from cirrostack.db import query
from cirrostack.db.models import configuration as models

#: CloudStack never lists this category (values used internally, e.g. keys and secrets).
HIDDEN_CATEGORY = "Hidden"


@dataclass(frozen=True)
class Filter:
    """What listConfigurations asked for (the scope comes as a ``store.Place``)."""

    name: str | None = None
    category: str | None = None
    keyword: str | None = None


@dataclass(frozen=True)
class Entry:
    """One configuration as an answer shows it: the row, its key, the value in force."""

    row: models.Configuration
    key: definitions.ConfigKey[Any] | None
    value: str | None


def search(
    session: Session,
    wanted: Filter,
    place: store.Place | None,
    page: query.Page,
    registry: definitions.Registry = catalogue.REGISTRY,
) -> tuple[list[Entry], int]:
    """One page of configurations in name order, with the value in force at ``place``.

    ``name`` matches a part of the name and ``keyword`` a part of name, description, category,
    component or value (CloudStack's LIKE filters); at a scope only keys of that scope are listed.
    """
    table = models.Configuration
    statement = sa.select(table).where(table.category != HIDDEN_CATEGORY)
    if wanted.name:
        statement = statement.where(query.matches_keyword(table.name, wanted.name))
    if wanted.category:
        statement = statement.where(table.category == wanted.category)
    if wanted.keyword:
        columns = (table.name, table.description, table.category, table.component, table.value)
        statement = statement.where(query.keyword_in(wanted.keyword, *columns))
    if place is not None:
        names = [key.name for key in registry.supporting(place.scope)]
        statement = statement.where(table.name.in_(names))
    rows, total = query.paged(session, statement.order_by(table.name), page)
    return _entries(session, rows, place, registry), total


def _entries(
    session: Session,
    rows: Sequence[models.Configuration],
    place: store.Place | None,
    registry: definitions.Registry,
) -> list[Entry]:
    """The rows with their keys and the values in force at ``place``, in a fixed number of
    queries (the stored global value when no place is named)."""
    known = {row.name: registry.get(row.name) for row in rows}
    at_place: dict[str, settings.Resolved] = {}
    if place is not None:
        wanted = [key for key in known.values() if key is not None]
        at_place = settings.Settings(session).values_at(wanted, place)
    return [
        Entry(row, known[row.name], at_place[row.name].text)
        if row.name in at_place
        else Entry(row, known[row.name], row.value)
        for row in rows
    ]


def update(
    session: Session,
    name: str,
    text: str | None,
    place: store.Place | None,
    now: datetime.datetime,
    registry: definitions.Registry = catalogue.REGISTRY,
) -> Entry:
    """Set ``name`` to ``text`` at ``place`` (None: globally); the entry with the value in force.

    ``text`` None changes nothing (CloudStack answers the current value). Raises UnknownKey,
    ScopeNotSupported, or InvalidValue naming the key and the expected type.
    """
    key = registry.require(name)
    scope = definitions.Scope.GLOBAL if place is None else place.scope
    if not key.supports(scope):
        raise errors.ScopeNotSupported(key.name, scope.value, key.scope_names())
    if text is not None:
        stripped = text.strip()
        key.parse(stripped)
        if place is None:
            store.write_global(session, key, stripped, now)
        else:
            store.write_scoped(session, place, key.name, stripped)
    row = session.get(models.Configuration, key.name) or store.new_row(key)
    return _entries(session, [row], place, registry)[0]


def reset(
    session: Session,
    name: str,
    place: store.Place | None,
    now: datetime.datetime,
    registry: definitions.Registry = catalogue.REGISTRY,
) -> Entry:
    """Undo an update: remove the override at ``place``, or restore the global default."""
    key = registry.require(name)
    scope = definitions.Scope.GLOBAL if place is None else place.scope
    if not key.supports(scope):
        raise errors.ScopeNotSupported(key.name, scope.value, key.scope_names())
    if place is None:
        store.write_global(session, key, key.default_text, now)
    else:
        store.delete_scoped(session, place, key.name)
    row = session.get(models.Configuration, key.name) or store.new_row(key)
    return _entries(session, [row], place, registry)[0]
