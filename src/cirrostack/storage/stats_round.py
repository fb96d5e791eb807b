"""One round of the storage stats collector over one kind of store (pools, image stores).

``run`` reads, in one short read-only transaction, what to ask (``read``: per store its id,
transfer object and the host to ask), sends GetStorageStatsCommand to all of them in parallel
with no transaction open, then writes each answer with ``record`` in a short transaction of
its own. A store whose host does not answer is logged and keeps its last numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import transactions
from cirrostack.db.models import infrastructure as infra
from cirrostack.infrastructure import agents as agents_module
from cirrostack.protocol import storage as st
from cirrostack.storage import pool_hosts
from cirrostack.transport import errors as transport_errors

log = logging.getLogger(__name__)

PARALLEL = 8


@dataclass(frozen=True)
class Asked:
    """One store to ask: its row id, its transfer object, the host whose agent answers."""

    store_id: int
    store: st.DataStoreTO
    target: agents_module.Target


def asking(
    session: Session, store_id: int, store: Callable[[], st.DataStoreTO], chosen: Any
) -> Asked | None:
    """What to ask of the host ``chosen`` (an ``endpoint.Endpoint`` or None) for one store;
    None when there is no such host. ``store`` builds the transfer object only then."""
    host = session.get(infra.Host, chosen.host_id) if chosen is not None else None
    if host is None:
        return None
    return Asked(store_id, store(), agents_module.target_of(session, host))


Read = Callable[[Session], Sequence[Asked]]
Record = Callable[[Session, int, st.GetStorageStatsAnswer], None]


def run(
    sessions: sessionmaker[Session],
    agents: agents_module.Agents,
    read: Read,
    record: Record,
    what: str,
) -> int:
    """One round over what ``read`` gives; the number of stores whose stats were written."""
    asked = transactions.run(sessions, read, read=True, name=f"{what} stats read")
    if not asked:
        return 0
    with ThreadPoolExecutor(min(PARALLEL, len(asked)), thread_name_prefix="storage-stats") as ex:
        answers = list(ex.map(lambda one: _ask(agents, one, what), asked))
    written = 0
    for one, answer in zip(asked, answers, strict=True):
        if answer is None:
            continue

        def write(
            session: Session, store_id: int = one.store_id, got: st.GetStorageStatsAnswer = answer
        ) -> None:
            record(session, store_id, got)

        transactions.run(sessions, write, name=f"{what} stats write")
        written += 1
    return written


def _ask(agents: agents_module.Agents, asked: Asked, what: str) -> st.GetStorageStatsAnswer | None:
    command = st.GetStorageStatsCommand(store=asked.store)
    try:
        return pool_hosts.send(agents, asked.target, command, st.GetStorageStatsAnswer)
    except transport_errors.TransportError as exc:
        log.info("no stats for %s %s from %s: %s", what, asked.store_id, asked.target.name, exc)
        return None
