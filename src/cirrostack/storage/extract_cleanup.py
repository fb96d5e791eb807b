"""The extract cleanup: every ``extract.url.cleanup.interval`` seconds, the copies of expired
extract links leave their image stores.

A round reads the expired copies (``volume_extract.expired``: a link older than
``extract.url.expiration.interval``) in one short read; for each, a short transaction moves it
Ready → Destroying, the DeleteCommand runs with no transaction open, and a last one records it
Destroyed. A copy whose delete fails stays Destroying and is tried again next round. The link
itself stops working at expiry, whether or not a round has run (``volume_extract.live_link``).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.config import keys, settings
from cirrostack.db import base, periodic
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents
from cirrostack.storage import volume_extract, volume_store

log = logging.getLogger(__name__)


def sweep(sessions: sessionmaker[Session], fleet: agents.Agents) -> int:
    """One round; the number of copies deleted."""
    with sessions() as session:
        expired = volume_extract.expired(session, base.utcnow())
    deleted = 0
    for ref_id in expired:
        try:
            _delete(sessions, fleet, ref_id)
        except errors.CloudError as exc:
            log.warning("extract copy %s was not deleted: %s", ref_id, exc)
            continue
        deleted += 1
    return deleted


def _delete(sessions: sessionmaker[Session], fleet: agents.Agents, ref_id: int) -> None:
    with sessions() as session:
        ref = session.get_one(volume_store.Ref, ref_id)
        found = volume_store.destroying(session, ref, session.get_one(models.Volume, ref.volume_id))
        session.commit()
    if found is not None:
        volume_store.delete_file(fleet, found)
    with sessions() as session:
        volume_store.destroyed(session, ref_id)
        session.commit()


def cleaner(sessions: sessionmaker[Session], fleet: agents.Agents) -> periodic.Periodic:
    """The cleanup as a server background service, every ``extract.url.cleanup.interval``."""
    return periodic.Periodic(
        "extract cleanup",
        sessions,
        lambda session: float(settings.Settings(session).get(keys.EXTRACT_URL_CLEANUP_INTERVAL)),
        float(keys.EXTRACT_URL_CLEANUP_INTERVAL.default),
        lambda: sweep(sessions, fleet),
    )
