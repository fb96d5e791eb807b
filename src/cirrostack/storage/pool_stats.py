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

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.config import keys, settings
from cirrostack.db import outage, transactions
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.protocol import storage as st
from cirrostack.storage import capacity, pool_hosts, pools, store_stats
from cirrostack.transport import endpoint
from cirrostack.transport import errors as transport_errors

log = logging.getLogger(__name__)

PARALLEL = 8
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


@dataclass(frozen=True)
class _Asked:
    pool_id: int
    pool: st.PrimaryDataStoreTO
    target: agents_module.Target


def _asked(session: Session) -> list[_Asked]:
    found = session.scalars(
        sa.select(models.StoragePool)
        .where(models.StoragePool.removed.is_(None), models.StoragePool.status.in_(_COLLECTED))
        .order_by(models.StoragePool.id)
    )
    asked = []
    for pool in found:
        chosen = endpoint.for_pool(session, pool)
        if chosen is None:
            continue
        host = session.get(infra.Host, chosen.host_id)
        if host is None:
            continue
        asked.append(
            _Asked(
                pool.id,
                pool_hosts.transfer_object(session, pool),
                agents_module.target_of(session, host),
            )
        )
    return asked


def _ask(agents: agents_module.Agents, asked: _Asked) -> st.GetStorageStatsAnswer | None:
    command = st.GetStorageStatsCommand(store=asked.pool)
    try:
        return pool_hosts.send(agents, asked.target, command, st.GetStorageStatsAnswer)
    except transport_errors.TransportError as exc:
        log.info(
            "no storage stats for pool %s from %s: %s", asked.pool.name, asked.target.name, exc
        )
        return None


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
    """One round; the number of pools whose stats were written."""
    asked = transactions.run(sessions, _asked, read=True, name="storage stats read")
    if not asked:
        return 0
    with ThreadPoolExecutor(min(PARALLEL, len(asked)), thread_name_prefix="pool-stats") as ex:
        answers = list(ex.map(lambda a: _ask(agents, a), asked))
    written = 0
    for one, answer in zip(asked, answers, strict=True):
        if answer is None:
            continue

        def write(
            session: Session, pool_id: int = one.pool_id, got: st.GetStorageStatsAnswer = answer
        ) -> None:
            record(session, pool_id, got)

        transactions.run(sessions, write, name="storage stats write")
        written += 1
    return written


class StorageStatsCollector:
    """The collector as a server background service (``start``/``stop``)."""

    def __init__(self, sessions: sessionmaker[Session], agents: agents_module.Agents) -> None:
        self.sessions = sessions
        self.agents = agents
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = outage.Watch(log, "storage stats collector")

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the storage stats collector is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="storage-stats", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            interval = DEFAULT_INTERVAL_MS / 1000.0
            try:
                with self.sessions() as session:
                    interval = interval_of(
                        settings.Settings(session).get(keys.STORAGE_STATS_INTERVAL)
                    )
                sweep(self.sessions, self.agents)
                store_stats.sweep(self.sessions, self.agents)
            except Exception as exc:
                if self._outage.failed(exc) is None:
                    log.exception("storage stats round failed")
            self._stopping.wait(interval)
