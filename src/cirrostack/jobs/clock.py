"""The database's UTC clock: leases and timeouts are measured by one clock for every server.

CloudStack's multi-server pains include clock skew between management servers (#8797); a
lease written with one server's clock and checked with another's is wrong by the skew. Every
lease here is computed from ``database_now``.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement


class utc_now(FunctionElement[datetime.datetime]):  # noqa: N801 - reads like SQL's now()
    """The database's current UTC time as a naive DATETIME."""

    type = sa.DateTime()
    inherit_cache = True


@compiles(utc_now)
def _default(element: utc_now, compiler: Any, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"  # SQLite: UTC, 'YYYY-MM-DD HH:MM:SS'


@compiles(utc_now, "postgresql")
def _postgresql(element: utc_now, compiler: Any, **kw: Any) -> str:
    return "(now() AT TIME ZONE 'utc')"


@compiles(utc_now, "mysql")
@compiles(utc_now, "mariadb")
def _mysql(element: utc_now, compiler: Any, **kw: Any) -> str:
    return "UTC_TIMESTAMP()"


def database_now(session: Session) -> datetime.datetime:
    """Read the database's UTC clock (whole seconds, the precision every backend keeps)."""
    value = session.execute(sa.select(utc_now())).scalar_one()
    return value.replace(microsecond=0, tzinfo=None)
