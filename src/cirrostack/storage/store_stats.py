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

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import transactions
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.protocol import storage as st
from cirrostack.storage import capacity, image_stores, pool_hosts
from cirrostack.transport import endpoint
from cirrostack.transport import errors as transport_errors

log = logging.getLogger(__name__)

PARALLEL = 8


@dataclass(frozen=True)
class _Asked:
    store_id: int
    store: st.DataStoreTO
    target: agents_module.Target


def _asked(session: Session) -> list[_Asked]:
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
        host = session.get(infra.Host, chosen.host_id) if chosen is not None else None
        if host is None:
            continue
        asked.append(
            _Asked(
                store.id,
                image_stores.transfer_object(session, store),
                agents_module.target_of(session, host),
            )
        )
    return asked


def _ask(agents: agents_module.Agents, asked: _Asked) -> st.GetStorageStatsAnswer | None:
    command = st.GetStorageStatsCommand(store=asked.store)
    try:
        return pool_hosts.send(agents, asked.target, command, st.GetStorageStatsAnswer)
    except transport_errors.TransportError as exc:
        log.info("no stats for image store %s from %s: %s", asked.store_id, asked.target.name, exc)
        return None


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
    asked: Sequence[_Asked] = transactions.run(
        sessions, _asked, read=True, name="image store stats read"
    )
    if not asked:
        return 0
    with ThreadPoolExecutor(min(PARALLEL, len(asked)), thread_name_prefix="store-stats") as ex:
        answers = list(ex.map(lambda a: _ask(agents, a), asked))
    written = 0
    for one, answer in zip(asked, answers, strict=True):
        if answer is None:
            continue

        def write(
            session: Session, store_id: int = one.store_id, got: st.GetStorageStatsAnswer = answer
        ) -> None:
            record(session, store_id, got)

        transactions.run(sessions, write, name="image store stats write")
        written += 1
    return written
