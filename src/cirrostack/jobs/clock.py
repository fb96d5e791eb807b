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


class utc_after(FunctionElement[datetime.datetime]):  # noqa: N801 - reads like SQL's now()
    """The database's UTC time in whole seconds plus ``seconds`` (a bound whole number).

    Lets one statement stamp a row with the database's time (``utc_after(0)``) or a lease's
    end, where ``database_now`` would cost a round trip of its own (the job queue's claim and
    finish). Whole seconds, as ``database_now``: every backend keeps them.
    """

    type = sa.DateTime()
    inherit_cache = True


@compiles(utc_after)
def _after_default(element: utc_after, compiler: Any, **kw: Any) -> str:
    # SQLite: the text CURRENT_TIMESTAMP has ('YYYY-MM-DD HH:MM:SS'), so it compares with it.
    return f"datetime(CURRENT_TIMESTAMP, {compiler.process(element.clauses, **kw)} || ' seconds')"


@compiles(utc_after, "postgresql")
def _after_postgresql(element: utc_after, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"(date_trunc('second', now() AT TIME ZONE 'utc') + {seconds} * interval '1 second')"


@compiles(utc_after, "mysql")
@compiles(utc_after, "mariadb")
def _after_mysql(element: utc_after, compiler: Any, **kw: Any) -> str:
    return f"(UTC_TIMESTAMP() + INTERVAL {compiler.process(element.clauses, **kw)} SECOND)"


def seconds_of(span: datetime.timedelta) -> int:
    """``span`` in whole seconds, the bound value ``utc_after`` takes."""
    return int(span.total_seconds())


def database_now(session: Session) -> datetime.datetime:
    """Read the database's UTC clock (whole seconds, the precision every backend keeps)."""
    value = session.execute(sa.select(utc_now())).scalar_one()
    return value.replace(microsecond=0, tzinfo=None)
