"""How long a worker's claim on a job lasts: the setting ``job.lease.seconds``, read each time.

Called by the worker pool at every claim and heartbeat (``PoolSettings.lease_of``), so a new
value applies to the next claim and the next renewal without a restart.
"""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from cirrostack.config import keys, settings


def configured(session: Session) -> datetime.timedelta:
    """The lease ``job.lease.seconds`` asks for now; raises BadStoredValue if it is corrupt."""
    return datetime.timedelta(seconds=settings.Settings(session).get(keys.JOB_LEASE_SECONDS))
