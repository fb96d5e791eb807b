"""Image stores' size and use, asked by the storage stats collector's round (``pool_stats``).

CloudStack's StatsCollector asks each image store's size from the zone's secondary storage VM
and answers listCapacity type SECONDARY_STORAGE (6) and listImageStores' disksizetotal /
disksizeused from it. Here a round reads the live NFS image stores of a zone (an S3 bucket
has no size: CloudStack shows none for it either) and, per store, one Up host of its zone, in
one short read; sends GetStorageStatsCommand to them in parallel with no transaction open;
then writes each answer in a short transaction: ``image_store.total_size`` and ``used_bytes``
and the store's SECONDARY_STORAGE capacity row (``host_id`` = the store id, unique per
(host_id, type) since migration 0009). A store whose host does not answer keeps its last
numbers; a deleted store's row goes with it (``capacity.delete_secondary``).
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.protocol import storage as st
from cirrostack.storage import capacity, image_stores, stats_round
from cirrostack.transport import endpoint


def _asked(session: Session) -> list[stats_round.Asked]:
    found = session.scalars(
        sa.select(models.ImageStore)
        .where(
            models.ImageStore.removed.is_(None),
            models.ImageStore.data_center_id.is_not(None),
            sa.func.lower(models.ImageStore.protocol) == "nfs",
            sa.func.coalesce(models.ImageStore.role, "Image") == "Image",
        )
        .order_by(models.ImageStore.id)
    )
    asked = []
    for store in found:
        assert store.data_center_id is not None
        chosen = endpoint.any_up_in_zone(session, store.data_center_id)
        one = stats_round.asking(
            session,
            store.id,
            functools.partial(image_stores.transfer_object, session, store),
            chosen,
        )
        if one is not None:
            asked.append(one)
    return asked


def record(session: Session, store_id: int, answer: st.GetStorageStatsAnswer) -> None:
    """Write one store's stats (short transaction); a zero size is ignored."""
    store = session.get(models.ImageStore, store_id)
    if store is None or store.removed is not None or answer.capacity_bytes <= 0:
        return
    store.total_size = answer.capacity_bytes
    store.used_bytes = max(0, answer.used_bytes)
    session.flush()
    capacity.record_secondary(session, store)


def sweep(sessions: sessionmaker[Session], agents: agents_module.Agents) -> int:
    """One round over the image stores; the number of stores whose stats were written."""
    return stats_round.run(sessions, agents, _asked, record, "image store")
