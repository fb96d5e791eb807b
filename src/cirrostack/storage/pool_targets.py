"""Where a pool's storage commands go, and the pool as its agent needs it.

Read in a short transaction before an exchange (``Target`` and ``PrimaryDataStoreTO`` are
plain values), so the exchange itself runs with no transaction open. The endpoint is an Up,
Enabled routing host that can reach the pool: for a HOST pool its host; for a CLUSTER pool a
host of its cluster; for a ZONE pool a host of its zone; a host that has the pool connected
(``storage_pool_host_ref``) first, the lowest id among equals, so choices are stable.
"""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import infrastructure
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents
from cirrostack.protocol import messages
from cirrostack.protocol import storage as protocol
from cirrostack.transport import base

A = TypeVar("A", bound=messages.Answer)


def store_of(pool: models.StoragePool) -> protocol.PrimaryDataStoreTO:
    """The pool as a transfer object (its uuid names its mount on the agent)."""
    return protocol.PrimaryDataStoreTO(
        uuid=pool.uuid or "",
        id=pool.id,
        name=pool.name,
        pool_type=protocol.StoragePoolType(pool.pool_type),
        host=pool.host_address,
        path=pool.path,
        port=pool.port,
        managed=pool.managed,
    )


def host_for(session: Session, pool: models.StoragePool) -> infrastructure.Host:
    """The host that serves the pool's commands; ResourceUnavailable when none is Up."""
    host = infrastructure.Host
    connected = sa.select(models.StoragePoolHostRef.host_id).where(
        models.StoragePoolHostRef.pool_id == pool.id
    )
    statement = sa.select(host).where(
        host.type == "Routing",
        host.status == "Up",
        host.resource_state == "Enabled",
        host.removed.is_(None),
        host.guid.is_not(None),
        host.data_center_id == pool.data_center_id,
    )
    scope = (pool.scope or "CLUSTER").upper()
    if scope == "HOST":
        statement = statement.where(host.id.in_(connected))
    elif scope == "CLUSTER" and pool.cluster_id is not None:
        statement = statement.where(host.cluster_id == pool.cluster_id)
    found = session.scalars(
        statement.order_by(sa.case((host.id.in_(connected), 0), else_=1), host.id).limit(1)
    ).first()
    if found is None:
        raise errors.ResourceUnavailable(
            f"No Up host can reach storage pool {pool.name} ({pool.uuid}) to run the command"
        )
    return found


def target_for(session: Session, pool: models.StoragePool) -> agents.Target:
    """The exchange target for the pool's commands (a short read)."""
    return agents.target_of(session, host_for(session, pool))


def exchange(
    fleet: agents.Agents,
    target: agents.Target,
    command: messages.Command,
    expected: type[A],
    progress: base.OnProgress | None = None,
) -> A:
    """Send a storage command to the pool's host and return its successful answer.

    Called with no transaction open. Raises the transport's errors (AgentUnavailable,
    AgentFailed with the agent's details, CommandCancelled, BadAnswer)."""
    if target.remote is not None:
        fleet.route(target.guid, target.remote)
    return base.exchange(fleet.transport, target.endpoint, command, expected, progress)
