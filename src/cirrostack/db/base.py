"""Declarative base and the column conventions every CloudStack table shares.

Conventions (see ../shared/reference/cloudstack-schema-and-states.md, section 1):

- ``id`` is a numeric primary key used by foreign keys; ``uuid`` is what the API exposes as ``id``.
- ``created`` is set on insert (UTC, naive datetimes everywhere); ``removed`` marks a soft delete.
- Enumerations are stored as CloudStack's text (``Running``, ``enabled``), except the few
  CloudStack stores as ordinals (``account.type``, ``async_job.job_status``).
- Constraint names are fixed by a naming convention, so migrations are identical on SQLite,
  PostgreSQL and MariaDB and later migrations can refer to them by name.
"""

from __future__ import annotations

import datetime
import uuid as uuid_module

from sqlalchemy import BigInteger, Computed, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: A 64-bit key that is still SQLite's rowid alias (SQLite only autoincrements ``INTEGER``).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime.datetime:
    """The current UTC time as a naive datetime, the form every timestamp column stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def new_uuid() -> str:
    """A fresh random UUID in the lowercase form CloudStack's API uses."""
    return str(uuid_module.uuid4())


class Base(DeclarativeBase):
    """Root of every cirrostack model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    """Numeric primary key."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True, sort_order=-20)


class UuidMixin:
    """The public identifier: a UUID string, unique per table."""

    uuid: Mapped[str] = mapped_column(String(40), unique=True, default=new_uuid, sort_order=-19)


class CreatedMixin:
    """Insert time, set by the application in UTC."""

    created: Mapped[datetime.datetime] = mapped_column(DateTime(), default=utcnow, sort_order=20)


class RemovedMixin:
    """Soft delete: a row whose ``removed`` is set is gone for every ordinary read."""

    removed: Mapped[datetime.datetime | None] = mapped_column(
        DateTime(), default=None, sort_order=21
    )


class Entity(IdMixin, UuidMixin, CreatedMixin, RemovedMixin):
    """The usual first-class CloudStack row: id, uuid, created, removed."""


def live_name(name_column: str) -> Mapped[str | None]:
    """A ``live_name`` column: ``lower(<name_column>)`` while the row is live, NULL once removed.

    A unique index over it (with the parent's id) is the database's own "unique name among
    the live rows, regardless of case" rule, on every backend: NULLs never collide, and MariaDB,
    which has no partial indexes, indexes generated columns. Migration 0004 stores it on
    PostgreSQL (which only has stored generated columns) and computes it on read elsewhere.
    """
    return mapped_column(
        String(255), Computed(f"CASE WHEN removed IS NULL THEN lower({name_column}) END")
    )
