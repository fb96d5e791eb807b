"""The storage stats collector: every ``storage.stats.interval`` ms each Up pool's size and use.

A round reads the live pools that are Up (or Disabled, or in maintenance: their size still
matters to listCapacity) and, per pool, one connected Up host (``endpoint.for_pool``) in one
short read; then sends GetStorageStatsCommand to all of them in parallel with no transaction
open; then writes each answer in a short transaction of its own: ``storage_pool.capacity_bytes``
and ``used_bytes`` (a capacity of 0 is ignored, as CloudStack ignores it) and the STORAGE (2)
capacity row. A pool whose host does not answer keeps its last numbers until the next round.
The same round asks the image stores' size and use (``store_stats``).
"""

from __future__ import annotations

import functools
import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.config import keys, settings
from cirrostack.db import periodic
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.protocol import storage as st
from cirrostack.storage import capacity, pool_hosts, pools, stats_round, store_stats
from cirrostack.transport import endpoint

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 60000
_COLLECTED = ("Up", "Disabled", "PrepareForMaintenance", "Maintenance", "ErrorInMaintenance")


def interval_of(text: str) -> float:
    """Seconds between rounds from ``storage.stats.interval`` (ms, a String in CloudStack);
    a text that is not a whole number of at least 1000 ms gives the default, logged."""
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1000:
        log.warning("storage.stats.interval %r is not >= 1000 ms; using 60000", text)
        value = DEFAULT_INTERVAL_MS
    return value / 1000.0


def _asked(session: Session) -> list[stats_round.Asked]:
    found = session.scalars(
        sa.select(models.StoragePool)
        .where(models.StoragePool.removed.is_(None), models.StoragePool.status.in_(_COLLECTED))
        .order_by(models.StoragePool.id)
    )
    asked = []
    for pool in found:
        chosen = endpoint.for_pool(session, pool)
        one = stats_round.asking(
            session, pool.id, functools.partial(pool_hosts.transfer_object, session, pool), chosen
        )
        if one is not None:
            asked.append(one)
    return asked


def record(session: Session, pool_id: int, answer: st.GetStorageStatsAnswer) -> None:
    """Write one pool's stats (short transaction); a zero capacity is ignored."""
    pool = session.get(models.StoragePool, pool_id)
    if pool is None or pool.removed is not None or answer.capacity_bytes <= 0:
        return
    pool.capacity_bytes = (
        answer.capacity_bytes if not _admin_capacity(session, pool) else (pool.capacity_bytes)
    )
    pool.used_bytes = max(0, answer.used_bytes)
    session.flush()
    capacity.record_used(session, pool)


def _admin_capacity(session: Session, pool: models.StoragePool) -> bool:
    """Whether the admin gave the pool's capacity (the detail ``createStoragePool`` stores
    for ``capacitybytes``): the agents' size does not replace it then."""
    return (
        session.scalar(
            sa.select(models.StoragePoolDetail.id).where(
                models.StoragePoolDetail.pool_id == pool.id,
                models.StoragePoolDetail.name == pools.ADMIN_CAPACITY_DETAIL,
            )
        )
        is not None
    )


def sweep(sessions: sessionmaker[Session], agents: agents_module.Agents) -> int:
    """One round over the pools; the number of pools whose stats were written."""
    return stats_round.run(sessions, agents, _asked, record, "storage pool")


def collector(sessions: sessionmaker[Session], agents: agents_module.Agents) -> periodic.Periodic:
    """The pools' and image stores' stats as a server background service, every
    ``storage.stats.interval``."""

    def round_() -> None:
        sweep(sessions, agents)
        store_stats.sweep(sessions, agents)

    return periodic.Periodic(
        "storage stats collector",
        sessions,
        lambda session: interval_of(settings.Settings(session).get(keys.STORAGE_STATS_INTERVAL)),
        DEFAULT_INTERVAL_MS / 1000.0,
        round_,
    )
