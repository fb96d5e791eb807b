"""How long a worker's claim on a job lasts, and how long a job may be silent: settings read
each time they are needed.

``configured`` (``job.lease.seconds``) is read by the worker pool at every claim and heartbeat
(``PoolSettings.lease_of``) and by a job's checkpoint, so a new value applies to the next claim
and the next renewal without a restart. ``silence`` (``job.cancel.threshold.minutes``) is read
by the heartbeat (it renews only jobs active within it) and by the reaper (it fails jobs silent
past it).

Both keys have no scope below GLOBAL, so their value in force is the stored global value or the
default: ``_global`` reads it with one prebuilt Core statement, as ``Settings.get`` would
answer it (same text, same parse, same BadStoredValue), without the general lookup's ORM
query, which cost more than a whole job's finish at every claim on SQLite (0.5 ms of CPU).
"""

from __future__ import annotations

import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.config import definitions, keys, settings
from cirrostack.db.models import configuration


def configured(session: Session) -> datetime.timedelta:
    """The lease ``job.lease.seconds`` asks for now; raises BadStoredValue if it is corrupt."""
    return datetime.timedelta(seconds=_global(session, keys.JOB_LEASE_SECONDS))


def silence(session: Session) -> datetime.timedelta:
    """How long a running job may show no activity before it is failed as stuck."""
    minutes = _global(session, keys.JOB_CANCEL_THRESHOLD_MINUTES)
    return datetime.timedelta(minutes=minutes)


def _global(session: Session, key: definitions.ConfigKey[int]) -> int:
    """``Settings(session).get(key)`` for a key set only globally, in one Core statement."""
    if key.scopes:  # an override could apply somewhere: the general lookup
        return settings.Settings(session).get(key)
    if session.autoflush:
        session.flush()  # as the ORM query would: a value changed in this transaction counts
    text = session.connection().execute(_GLOBAL_VALUE, {"name": key.name}).scalar()
    if text is None:  # no row, or unset: the declared default
        return settings.parsed(key, settings.Resolved(key.default_text, is_default=True))
    return settings.parsed(key, settings.Resolved(str(text)))


_CONFIGURATION = cast(sa.Table, configuration.Configuration.__table__)
_GLOBAL_VALUE = sa.select(_CONFIGURATION.c.value).where(
    _CONFIGURATION.c.name == sa.bindparam("name")
)
