"""Where image-store work goes: an Up host of the store's zone (CloudStack sends it to a
secondary storage VM of the zone; our hosts' agents mount NFS stores and reach S3 themselves).

Read in a short transaction before an exchange (``agents.Target`` is a plain value, routed to
an agent process of its own when the host has one), so the exchange runs with no transaction
open; ``pool_targets.exchange`` sends to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents
from cirrostack.transport import endpoint


def in_zone(session: Session, zone_id: int) -> agents.Target | None:
    """An Up, Enabled routing host of ``zone_id`` (the lowest id), or None."""
    found = endpoint.any_up_in_zone(session, zone_id)
    if found is None:
        return None
    return agents.target_of(session, session.get_one(infrastructure.Host, found.host_id))


def for_store(
    session: Session, store: models.ImageStore, zone_id: int | None = None
) -> agents.Target | None:
    """A host for work on ``store``: of its zone; for a region-wide store of ``zone_id``, else
    of any zone that has one (by zone id)."""
    if store.data_center_id is not None:
        return in_zone(session, store.data_center_id)
    if zone_id is not None:
        return in_zone(session, zone_id)
    for zone in session.scalars(
        sa.select(infrastructure.DataCenter.id)
        .where(infrastructure.DataCenter.removed.is_(None))
        .order_by(infrastructure.DataCenter.id)
    ):
        found = in_zone(session, zone)
        if found is not None:
            return found
    return None
