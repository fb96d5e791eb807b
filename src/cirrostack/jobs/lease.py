"""How long a worker's claim on a job lasts, and how long a job may be silent: settings read
each time they are needed.

``configured`` (``job.lease.seconds``) is read by the worker pool at every claim and heartbeat
(``PoolSettings.lease_of``) and by a job's checkpoint, so a new value applies to the next claim
and the next renewal without a restart. ``silence`` (``job.cancel.threshold.minutes``) is read
by the heartbeat (it renews only jobs active within it) and by the reaper (it fails jobs silent
past it).
"""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from cirrostack.config import keys, settings


def configured(session: Session) -> datetime.timedelta:
    """The lease ``job.lease.seconds`` asks for now; raises BadStoredValue if it is corrupt."""
    return datetime.timedelta(seconds=settings.Settings(session).get(keys.JOB_LEASE_SECONDS))


def silence(session: Session) -> datetime.timedelta:
    """How long a running job may show no activity before it is failed as stuck."""
    minutes = settings.Settings(session).get(keys.JOB_CANCEL_THRESHOLD_MINUTES)
    return datetime.timedelta(minutes=minutes)
