"""Where a setting's value lives: ``configuration.value`` and the owners' ``*_details`` rows.

A scoped value is a row of its owner's details table whose ``name`` is the key's name (two
cluster keys use CloudStack's historic names, ``cpuOvercommitRatio`` and
``memoryOvercommitRatio``, which addCluster writes and the allocator reads). The details
tables have no unique (owner, name) constraint (the schema reference records none), so a write
locks the owner's row first: parallel writes at one place serialise there, and the second
finds (with a locking read, which sees committed rows on MariaDB too) the row the first
inserted. A write updates the first row and removes any others; reads take the lowest id.

Called by ``Settings`` (reads) and ``service`` (writes); never commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.config import definitions
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import configuration as models
from cirrostack.db.models import infrastructure, storage

Scope = definitions.Scope


@dataclass(frozen=True)
class Place:
    """A scope and the internal id of the object there (a zone, cluster, pool, ...)."""

    scope: Scope
    id: int

    def __str__(self) -> str:
        return f"{self.scope.value} {self.id}"


@dataclass(frozen=True)
class _Details:
    model: type[Any]
    owner: str
    #: The owner's own table, whose row a write locks.
    parent: type[Any]


_TABLES: dict[Scope, _Details] = {
    Scope.ZONE: _Details(infrastructure.DataCenterDetail, "dc_id", infrastructure.DataCenter),
    Scope.CLUSTER: _Details(infrastructure.ClusterDetail, "cluster_id", infrastructure.Cluster),
    Scope.STORAGE_POOL: _Details(storage.StoragePoolDetail, "pool_id", storage.StoragePool),
    Scope.IMAGE_STORE: _Details(storage.ImageStoreDetail, "store_id", storage.ImageStore),
    Scope.ACCOUNT: _Details(models.AccountDetail, "account_id", account_models.Account),
    Scope.DOMAIN: _Details(models.DomainDetail, "domain_id", account_models.Domain),
}

#: Details rows CloudStack names differently from the setting they override.
_DETAIL_NAMES: dict[tuple[Scope, str], str] = {
    (Scope.CLUSTER, "cpu.overprovisioning.factor"): "cpuOvercommitRatio",
    (Scope.CLUSTER, "mem.overprovisioning.factor"): "memoryOvercommitRatio",
}


def detail_name(scope: Scope, key_name: str) -> str:
    """The ``name`` of the details row that overrides ``key_name`` at ``scope``."""
    return _DETAIL_NAMES.get((scope, key_name), key_name)


def _rows(session: Session, place: Place, key_name: str, *, locking: bool = False) -> list[Any]:
    table = _TABLES[place.scope]
    column = getattr(table.model, table.owner)
    statement = (
        sa.select(table.model)
        .where(column == place.id, table.model.name == detail_name(place.scope, key_name))
        .order_by(table.model.id)
    )
    if locking:
        statement = statement.with_for_update()
    return list(session.scalars(statement))


def _lock_owner(session: Session, place: Place) -> None:
    """Lock the row of the object at ``place`` until the transaction ends (SQLite: no-op,
    its one writer is serialised already)."""
    parent = _TABLES[place.scope].parent
    session.execute(sa.select(parent.id).where(parent.id == place.id).with_for_update())


def scoped_texts(
    session: Session, scope: Scope, owner_ids: Collection[int], key_names: Collection[str]
) -> dict[tuple[int, str], str]:
    """The overrides of ``key_names`` at the ``scope`` objects ``owner_ids``, in one query.

    Keyed by (owner id, key name); an owner without an override of a key is missing. Called
    by ``Settings`` to read the values of many places (a list's rows) or many keys at once.
    """
    if not owner_ids or not key_names:
        return {}
    table = _TABLES[scope]
    column = getattr(table.model, table.owner)
    # MariaDB matches names regardless of case, as the single-key read does: key by casefold.
    by_detail = {detail_name(scope, name).casefold(): name for name in key_names}
    names = [detail_name(scope, name) for name in key_names]
    found: dict[tuple[int, str], str] = {}
    rows = session.execute(
        sa.select(column, table.model.name, table.model.value)
        .where(column.in_(sorted(owner_ids)), table.model.name.in_(names))
        .order_by(table.model.id)
    )
    for owner, name, value in rows:
        key_name = by_detail.get(str(name).casefold())
        if key_name is not None:
            found.setdefault((int(owner), key_name), str(value))
    return found


#: The stored global values of some keys (expanding parameter ``names``); prebuilt: lists and
#: most commands read one or more settings on every call.
_GLOBAL_TEXTS = sa.select(models.Configuration.name, models.Configuration.value).where(
    models.Configuration.name.in_(sa.bindparam("names", expanding=True))
)


def global_texts(session: Session, key_names: Collection[str]) -> dict[str, str | None]:
    """``configuration.value`` of each of ``key_names`` stored, in one query (missing: no row)."""
    if not key_names:
        return {}
    by_name = {name.casefold(): name for name in key_names}
    # Through the session (not its connection): a row changed in this transaction is flushed
    # before it is read.
    rows = session.execute(_GLOBAL_TEXTS, {"names": sorted(key_names)})
    return {by_name[name.casefold()]: value for name, value in rows if name.casefold() in by_name}


def scoped_text(session: Session, place: Place, key_name: str) -> str | None:
    """The override of ``key_name`` at ``place``, or None when there is none."""
    rows = _rows(session, place, key_name)
    return None if not rows else str(rows[0].value)


def global_text(session: Session, key_name: str) -> str | None:
    """``configuration.value`` of ``key_name``; None when the row is missing or unset."""
    row = session.get(models.Configuration, key_name)
    return None if row is None else row.value


def write_scoped(session: Session, place: Place, key_name: str, text: str) -> None:
    """Set the override of ``key_name`` at ``place`` to ``text``; parallel writes at one
    place serialise on its owner's row, so they leave one override."""
    _lock_owner(session, place)
    rows = _rows(session, place, key_name, locking=True)
    if rows:
        rows[0].value = text
        for extra in rows[1:]:
            session.delete(extra)
    else:
        table = _TABLES[place.scope]
        session.add(
            table.model(
                **{table.owner: place.id, "name": detail_name(place.scope, key_name)}, value=text
            )
        )
    session.flush()


def delete_scoped(session: Session, place: Place, key_name: str) -> None:
    """Remove the override of ``key_name`` at ``place`` (the next scope up applies again)."""
    _lock_owner(session, place)
    for row in _rows(session, place, key_name, locking=True):
        session.delete(row)
    session.flush()


def write_global(
    session: Session, key: definitions.ConfigKey[Any], text: str | None, now: datetime.datetime
) -> models.Configuration:
    """Set ``configuration.value`` of ``key`` (creating its row if seeding has not)."""
    row = session.get(models.Configuration, key.name)
    if row is None:
        row = new_row(key)
        session.add(row)
    row.value = text
    row.updated = now
    session.flush()
    return row


def new_row(key: definitions.ConfigKey[Any]) -> models.Configuration:
    """The ``configuration`` row of a key not yet stored, its value the default."""
    row = models.Configuration(name=key.name, value=key.default_text, instance="DEFAULT")
    describe(row, key)
    return row


def describe(row: models.Configuration, key: definitions.ConfigKey[Any]) -> None:
    """Copy the key's declaration into its row (all columns but ``value`` and ``updated``)."""
    row.default_value = key.default_text
    row.category = key.category
    row.component = key.component
    row.description = key.listed_description
    row.scope = ",".join(key.scope_names())
    row.is_dynamic = key.is_dynamic
    row.kind = "Select" if key.choices else None
    row.options = ",".join(key.choices) if key.choices else None


# --- Parents: which place a value is inherited from --------------------------------------------


def parents(session: Session, place: Place) -> list[Place]:
    """The places above ``place``, nearest first (pool → cluster → zone; account → domain)."""
    return parents_of(session, place.scope, [place.id]).get(place.id, [])


def parents_of(session: Session, scope: Scope, ids: Collection[int]) -> dict[int, list[Place]]:
    """The places above each ``scope`` object of ``ids``, nearest first, in at most one query.

    An id whose object is missing (or has no parent) is missing from the answer.
    """
    if not ids or scope not in _PARENT_COLUMNS:
        return {}
    model, columns = _PARENT_COLUMNS[scope]
    rows = session.execute(
        sa.select(model.id, *(getattr(model, name) for name, _ in columns)).where(
            model.id.in_(sorted(ids))
        )
    )
    found: dict[int, list[Place]] = {}
    for ident, *values in rows:
        above = [
            Place(parent, value)
            for (_, parent), value in zip(columns, values, strict=True)
            if value is not None
        ]
        if above:
            found[int(ident)] = above
    return found


#: Where each scope's object names the places above it: (model, [(column, scope), ...]).
_PARENT_COLUMNS: dict[Scope, tuple[type[Any], tuple[tuple[str, Scope], ...]]] = {
    Scope.STORAGE_POOL: (
        storage.StoragePool,
        (("cluster_id", Scope.CLUSTER), ("data_center_id", Scope.ZONE)),
    ),
    Scope.CLUSTER: (infrastructure.Cluster, (("data_center_id", Scope.ZONE),)),
    Scope.IMAGE_STORE: (storage.ImageStore, (("data_center_id", Scope.ZONE),)),
    Scope.ACCOUNT: (account_models.Account, (("domain_id", Scope.DOMAIN),)),
}
