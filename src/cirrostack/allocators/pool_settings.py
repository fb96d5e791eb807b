"""The three settings the space filter needs, for every pool of a zone, in ONE query.

``pool.storage.capacity.disablethreshold`` and ``pool.storage.allocated.capacity
.disablethreshold`` are scoped pool → zone → global; ``storage.overprovisioning.factor`` pool →
global (``config.keys``). ``config.settings`` reads such values with one query per scope; a
decision over thousands of pools wants one round trip, so this module reads the pool, cluster
and zone overrides and the global values with a UNION ALL over the details tables, restricted
by the candidate pools (their ids, or a subquery for thousands), and resolves each pool's
chain in Python with the same rule as ``config.settings`` (the nearest scope the key supports,
then the global value, then the default). A stored text that does not parse raises
``config.errors.BadStoredValue``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.config import definitions, keys, settings, store
from cirrostack.db.models import configuration, infrastructure, storage

Scope = definitions.Scope

#: The keys read, in the order of ``PoolSettings``' fields.
KEYS: tuple[definitions.ConfigKey[float], ...] = (
    keys.STORAGE_CAPACITY_DISABLE_THRESHOLD,
    keys.STORAGE_ALLOCATED_CAPACITY_DISABLE_THRESHOLD,
    keys.STORAGE_OVERPROVISIONING_FACTOR,
)


@dataclass(frozen=True)
class PoolSettings:
    """The settings in force at one pool."""

    used_threshold: float
    allocated_threshold: float
    overprovisioning_factor: float


def _statement(
    zone_id: int, pool_ids: Any, pools: list[tuple[int, int | None]] | None = None
) -> sa.CompoundSelect[Any]:
    names = [key.name for key in KEYS]
    pool_detail, cluster_detail = storage.StoragePoolDetail, infrastructure.ClusterDetail
    zone_detail, config = infrastructure.DataCenterDetail, configuration.Configuration
    pools_of_zone = pool_ids
    clusters_of_zone = (
        sorted({cluster for _, cluster in pools if cluster is not None})
        if pools is not None
        else sa.select(storage.StoragePool.cluster_id).where(storage.StoragePool.id.in_(pool_ids))
    )
    return sa.union_all(
        sa.select(
            sa.literal(Scope.STORAGE_POOL.value),
            pool_detail.pool_id,
            pool_detail.name,
            pool_detail.value,
            pool_detail.id,
        ).where(pool_detail.pool_id.in_(pools_of_zone), pool_detail.name.in_(names)),
        sa.select(
            sa.literal(Scope.CLUSTER.value),
            cluster_detail.cluster_id,
            cluster_detail.name,
            cluster_detail.value,
            cluster_detail.id,
        ).where(cluster_detail.cluster_id.in_(clusters_of_zone), cluster_detail.name.in_(names)),
        sa.select(
            sa.literal(Scope.ZONE.value),
            zone_detail.dc_id,
            zone_detail.name,
            zone_detail.value,
            zone_detail.id,
        ).where(zone_detail.dc_id == zone_id, zone_detail.name.in_(names)),
        sa.select(sa.literal("global"), sa.null(), config.name, config.value, sa.literal(0)).where(
            config.name.in_(names)
        ),
    )


def read(
    session: Session,
    zone_id: int,
    pools: Iterable[tuple[int, int | None]],
    pool_ids: Any = None,
) -> dict[int, PoolSettings]:
    """The settings of each (pool id, cluster id) of ``zone_id``: one query. ``pool_ids`` (a
    subquery or list of ids) limits the details read; None reads those of the given pools."""
    pools = list(pools)
    if pool_ids is None:
        pool_ids = [pool_id for pool_id, _ in pools]
    by_name = {key.name.casefold(): key.name for key in KEYS}
    texts: dict[tuple[str, int | None, str], tuple[int, str]] = {}
    for scope, owner, name, value, row_id in session.execute(_statement(zone_id, pool_ids, pools)):
        key_name = by_name.get(str(name).casefold())
        if key_name is None or value is None:
            continue
        slot = (str(scope), None if owner is None else int(owner), key_name)
        if slot not in texts or int(row_id) < texts[slot][0]:  # the lowest id wins, as in store
            texts[slot] = (int(row_id), str(value))
    found: dict[int, PoolSettings] = {}
    for pool_id, cluster_id in pools:
        chain = [(Scope.STORAGE_POOL, pool_id), (Scope.CLUSTER, cluster_id), (Scope.ZONE, zone_id)]
        values = [_value(key, chain, texts) for key in KEYS]
        found[pool_id] = PoolSettings(*values)
    return found


def _value(
    key: definitions.ConfigKey[float],
    chain: list[tuple[Scope, int | None]],
    texts: dict[tuple[str, int | None, str], tuple[int, str]],
) -> float:
    for scope, owner in chain:
        if owner is None or not key.supports(scope):
            continue
        hit = texts.get((scope.value, owner, key.name))
        if hit is not None:
            return _parsed(key, hit[1], store.Place(scope, owner))
    stored = texts.get(("global", None, key.name))
    if stored is not None:
        return _parsed(key, stored[1], None)
    return settings.parsed(key, settings.Resolved(key.default_text, is_default=True))


def _parsed(key: definitions.ConfigKey[float], text: str, place: Any) -> float:
    return settings.parsed(key, settings.Resolved(text, place))
