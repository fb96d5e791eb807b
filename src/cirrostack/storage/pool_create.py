"""A new primary pool, connected by the hosts of its scope: what createStoragePool does, and the
demo cloud's start-up with it.

Two steps, so no transaction is open while an agent is waited on: ``connect`` records the pool
(Initialized) in a short transaction, sends ModifyStoragePoolCommand to the Up hosts of its
scope in parallel with no transaction open, and removes the pool again when none connected it
(ResourceUnavailable: nothing is left half-made); ``attach`` then records, in the caller's
transaction, the hosts that connected and the capacity they reported, and moves the pool Up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.db import transactions
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents
from cirrostack.protocol import storage as st
from cirrostack.storage import pool_hosts, pools


@dataclass(frozen=True)
class Connected:
    """What ``connect`` left: the recorded pool and every host's outcome."""

    pool_id: int
    connections: tuple[pool_hosts.Connection, ...]


def connect(
    sessions: sessionmaker[Session],
    fleet: agents.Agents,
    new_pool: Callable[[Session], pools.NewPool],
) -> Connected:
    """Record the pool ``new_pool`` describes (read in the recording transaction), then have
    the hosts of its scope connect it, with no transaction open.

    Raises what ``pools.insert`` raises for a bad pool (nothing written), and
    ResourceUnavailable naming each host's failure when no host connected it (the pool is
    removed again)."""

    def insert(session: Session) -> tuple[int, st.PrimaryDataStoreTO, list[agents.Target]]:
        pool = pools.insert(session, new_pool(session))
        hosts = pool_hosts.hosts_in_scope(session, pool)
        return (
            pool.id,
            pool_hosts.transfer_object(session, pool),
            pool_hosts.targets(session, hosts),
        )

    pool_id, pool, targets = transactions.run(sessions, insert, name="createStoragePool")
    answers = pool_hosts.exchange(fleet, pool, targets)
    if not any(answer.answer is not None for answer in answers):
        transactions.run(sessions, lambda s: pools.discard(s, pool_id))
        why = "; ".join(f"{a.target.name}: {a.failure}" for a in answers) or "no host is Up"
        raise errors.ResourceUnavailable(
            f"Failed to add storage pool {pool.name}: no host in its scope connected it ({why})"
        )
    return Connected(pool_id, tuple(answers))


def attach(session: Session, done: Connected) -> models.StoragePool:
    """Record the connections ``connect`` made and move the pool Up (its capacity rows made);
    the caller commits."""
    pool = session.get_one(models.StoragePool, done.pool_id)
    pool_hosts.record(session, pool, done.connections)
    pools.attached(session, pool)
    return pool
