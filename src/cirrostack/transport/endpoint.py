"""Endpoints: the agent a command is sent to, and how one is picked.

An endpoint names a host's agent by its ``guid`` (the identity the agent reports) and carries
the host's id and name for messages. ``of`` makes one for a known host; ``any_up_in_zone`` is the
selector for work any host of a zone can do (image-store work, later). ``for_pool`` picks a host
that has connected a primary pool and ``for_pools`` the host for a move between two stores, by
CloudStack's EndPointSelector rules (storage reference §1.5).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure as models
from cirrostack.db.models import storage as storage_models


@dataclass(frozen=True)
class Endpoint:
    """Where a command goes: the agent of host ``host_id``."""

    host_id: int
    guid: str
    name: str

    def __str__(self) -> str:
        return f"host {self.name} ({self.guid})"


def of(host: models.Host) -> Endpoint:
    """The endpoint of ``host``; raises ValueError for a host without an agent identity."""
    if host.guid is None:
        raise ValueError(f"host {host.uuid} has no agent (no guid)")
    return Endpoint(host.id, host.guid, host.name)


def any_up_in_zone(session: Session, zone_id: int) -> Endpoint | None:
    """An Up, Enabled routing host of the zone (the lowest id, for stable choices), or None."""
    host = session.scalars(
        sa.select(models.Host)
        .where(
            models.Host.data_center_id == zone_id,
            models.Host.type == "Routing",
            models.Host.status == "Up",
            models.Host.resource_state == "Enabled",
            models.Host.removed.is_(None),
            models.Host.guid.is_not(None),
        )
        .order_by(models.Host.id)
        .limit(1)
    ).first()
    return None if host is None else of(host)


def for_pool(session: Session, pool: storage_models.StoragePool) -> Endpoint | None:
    """A host to run work on ``pool``: Up, Enabled, Routing, with a ``storage_pool_host_ref``
    row for the pool, in a cluster whose allocation state is Enabled, within the pool's scope
    (its host, its cluster, its zone); random among equals, as CloudStack's ``rand()``. None
    when no host qualifies."""
    ref = storage_models.StoragePoolHostRef
    query = (
        sa.select(models.Host)
        .join(ref, ref.host_id == models.Host.id)
        .join(models.Cluster, models.Cluster.id == models.Host.cluster_id)
        .where(
            ref.pool_id == pool.id,
            models.Host.type == "Routing",
            models.Host.status == "Up",
            models.Host.resource_state == "Enabled",
            models.Host.removed.is_(None),
            models.Host.guid.is_not(None),
            models.Cluster.allocation_state == "Enabled",
        )
    )
    scope = (pool.scope or "").upper()
    if scope == "CLUSTER" and pool.cluster_id is not None:
        query = query.where(models.Host.cluster_id == pool.cluster_id)
    else:
        query = query.where(models.Host.data_center_id == pool.data_center_id)
    found = list(session.scalars(query.order_by(models.Host.id)))
    return of(random.choice(found)) if found else None


def narrower(
    src: storage_models.StoragePool | None, dest: storage_models.StoragePool | None
) -> storage_models.StoragePool | None:
    """The pool whose hosts run a move between ``src`` and ``dest`` (None: an image store,
    which has no hosts of its own). CloudStack 4.22's order (#11625): a HOST-scoped source,
    a HOST-scoped destination, a non-zone source, a non-zone destination; when both are
    zone-wide, the primary side (the source if both are primary)."""
    pools = [pool for pool in (src, dest) if pool is not None]
    for wanted in ("HOST", "CLUSTER"):
        for pool in pools:
            if (pool.scope or "").upper() == wanted:
                return pool
    return pools[0] if pools else None


def for_pools(
    session: Session,
    src: storage_models.StoragePool | None,
    dest: storage_models.StoragePool | None,
) -> Endpoint | None:
    """The endpoint for a move between two stores, at least one of them a primary pool
    (None for an image store): ``for_pool`` on the narrower-scope pool (``narrower``)."""
    pool = narrower(src, dest)
    return None if pool is None else for_pool(session, pool)
