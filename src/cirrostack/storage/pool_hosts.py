"""A pool's host connections: which hosts must connect it, the exchange, and the record.

Connecting is ModifyStoragePoolCommand(add=True) to the agent, which mounts or checks the pool
and answers where it is and how big. The three steps are split so no transaction is open while
an agent is waited on: ``targets`` (a short read: the pool's transfer object and the Up hosts of
its scope), ``exchange`` (in parallel, bounded, no database), ``record`` (a short write of the
``storage_pool_host_ref`` rows and the reported capacity).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.protocol import messages
from cirrostack.protocol import storage as st
from cirrostack.transport import base
from cirrostack.transport import errors as transport_errors

log = logging.getLogger(__name__)

#: At most this many hosts are connected at once.
PARALLEL = 8


def transfer_object(session: Session, pool: models.StoragePool) -> st.PrimaryDataStoreTO:
    """The pool as agents see it (its details included)."""
    details = dict(
        session.execute(
            sa.select(models.StoragePoolDetail.name, models.StoragePoolDetail.value).where(
                models.StoragePoolDetail.pool_id == pool.id
            )
        ).all()
    )
    assert pool.uuid is not None
    return st.PrimaryDataStoreTO(
        uuid=pool.uuid,
        id=pool.id,
        name=pool.name,
        pool_type=st.StoragePoolType(pool.pool_type),
        host=pool.host_address,
        path=pool.path,
        port=pool.port,
        details={str(k): str(v) for k, v in details.items()},
        managed=pool.managed,
    )


def hosts_in_scope(session: Session, pool: models.StoragePool) -> list[infra.Host]:
    """The Up routing hosts that must connect ``pool``: its host (HOST scope), its cluster's
    hosts (CLUSTER), or the zone's hosts of its hypervisor (ZONE)."""
    query = sa.select(infra.Host).where(
        infra.Host.type == "Routing",
        infra.Host.status == "Up",
        infra.Host.removed.is_(None),
        infra.Host.guid.is_not(None),
    )
    scope = (pool.scope or "CLUSTER").upper()
    if scope == "ZONE":
        query = query.where(infra.Host.data_center_id == pool.data_center_id)
        if pool.hypervisor:
            query = query.where(
                sa.func.lower(infra.Host.hypervisor_type) == pool.hypervisor.lower()
            )
    elif scope == "HOST":
        host_ids = sa.select(models.StoragePoolHostRef.host_id).where(
            models.StoragePoolHostRef.pool_id == pool.id
        )
        query = query.where(infra.Host.id.in_(host_ids))
    else:
        query = query.where(infra.Host.cluster_id == pool.cluster_id)
    return list(session.scalars(query.order_by(infra.Host.id)))


@dataclass(frozen=True)
class Connection:
    """One host's outcome: the agent's answer, or why it did not connect."""

    target: agents_module.Target
    answer: st.ModifyStoragePoolAnswer | None = None
    failure: str | None = None


def targets(session: Session, hosts: Sequence[infra.Host]) -> list[agents_module.Target]:
    """The exchange targets of ``hosts`` (a short read)."""
    return [agents_module.target_of(session, host) for host in hosts]


def send(
    agents: agents_module.Agents,
    target: agents_module.Target,
    command: messages.Command,
    answer_type: type[base.A],
) -> base.A:
    """One storage command to ``target``'s agent, with no database (raises TransportError)."""
    if target.remote is not None:
        agents.route(target.guid, target.remote)
    return base.exchange(agents.transport, target.endpoint, command, answer_type)


def exchange(
    agents: agents_module.Agents,
    pool: st.PrimaryDataStoreTO,
    found: Sequence[agents_module.Target],
    *,
    add: bool = True,
) -> list[Connection]:
    """ModifyStoragePoolCommand to every target in parallel (bounded), no transaction open."""

    def one(target: agents_module.Target) -> Connection:
        command = st.ModifyStoragePoolCommand(add=add, pool=pool)
        try:
            return Connection(target, send(agents, target, command, st.ModifyStoragePoolAnswer))
        except transport_errors.TransportError as exc:
            log.warning("host %s did not connect pool %s: %s", target.name, pool.name, exc)
            return Connection(target, failure=str(exc))

    if not found:
        return []
    with ThreadPoolExecutor(min(PARALLEL, len(found)), thread_name_prefix="pool-connect") as ex:
        return list(ex.map(one, found))


def disconnect(
    agents: agents_module.Agents,
    pool: st.PrimaryDataStoreTO,
    found: Sequence[agents_module.Target],
) -> list[str]:
    """DeleteStoragePoolCommand to every target in parallel; the failures, as text."""

    def one(target: agents_module.Target) -> str | None:
        try:
            send(agents, target, st.DeleteStoragePoolCommand(pool=pool), messages.Answer)
        except transport_errors.TransportError as exc:
            log.warning("host %s did not disconnect pool %s: %s", target.name, pool.name, exc)
            return f"{target.name}: {exc}"
        return None

    if not found:
        return []
    with ThreadPoolExecutor(min(PARALLEL, len(found)), thread_name_prefix="pool-delete") as ex:
        return [failure for failure in ex.map(one, found) if failure is not None]


def record(session: Session, pool: models.StoragePool, connections: Sequence[Connection]) -> int:
    """Write a ref per connected host (or refresh its path) and the reported capacity; the
    number of hosts connected. The capacity an admin gave (``capacity_bytes`` set) is kept."""
    now = _now()
    connected = [c for c in connections if c.answer is not None]
    existing = {
        ref.host_id: ref
        for ref in session.scalars(
            sa.select(models.StoragePoolHostRef).where(models.StoragePoolHostRef.pool_id == pool.id)
        )
    }
    for connection in connected:
        assert connection.answer is not None
        ref = existing.get(connection.target.host_id)
        if ref is None:
            session.add(
                models.StoragePoolHostRef(
                    host_id=connection.target.host_id,
                    pool_id=pool.id,
                    local_path=connection.answer.local_path,
                    last_updated=now,
                )
            )
        else:
            ref.local_path = connection.answer.local_path
            ref.last_updated = now
    if connected:
        first = connected[0].answer
        assert first is not None
        if not pool.capacity_bytes:
            pool.capacity_bytes = first.capacity_bytes
        if first.capacity_bytes > 0:
            pool.used_bytes = max(0, first.capacity_bytes - first.available_bytes)
    session.flush()
    return len(connected)


def connected_hosts(session: Session, pool_id: int) -> list[infra.Host]:
    """The live hosts with a ref for the pool."""
    return list(
        session.scalars(
            sa.select(infra.Host)
            .join(models.StoragePoolHostRef, models.StoragePoolHostRef.host_id == infra.Host.id)
            .where(
                models.StoragePoolHostRef.pool_id == pool_id,
                infra.Host.removed.is_(None),
                infra.Host.guid.is_not(None),
            )
            .order_by(infra.Host.id)
        )
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
