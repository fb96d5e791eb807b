"""Every setting one decision needs, for every candidate pool, in ONE prebuilt query.

Per pool (``PoolSettings``): ``pool.storage.capacity.disablethreshold`` and
``pool.storage.allocated.capacity.disablethreshold``, scoped pool → zone → global, and
``storage.overprovisioning.factor``, pool → global (``config.keys``). Per decision
(``DecisionSettings``, the decision is in one zone): ``volume.allocation.algorithm``,
``storage.pool.allocators.order``, the weighers' multipliers (zone → global) and
``storage.tag.rule.execution.timeout``.

``config.settings`` reads such values with one query per scope; a decision over thousands of
pools wants one round trip, so this module reads the pool, cluster and zone overrides and the
global values with a UNION ALL over the details tables, restricted by the same narrowing as
the candidates (``allocators.narrowing``: the statement is built once per narrowing and only
its parameters change), and resolves each pool's chain in Python with the rule of
``config.settings`` (the nearest scope the key supports, then the global value, then the
default; the lowest row id wins a duplicate, as in ``config.store``). A stored text that does
not parse raises ``config.errors.BadStoredValue``. Pools without an override of their own (or
of their cluster) share one resolved ``PoolSettings``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.allocators import narrowing as narrowing_module
from cirrostack.config import definitions, keys, settings, store
from cirrostack.db.models import configuration, infrastructure, storage

Scope = definitions.Scope
Key = definitions.ConfigKey[Any]

#: The keys read per pool, in the order of ``PoolSettings``' fields.
POOL_KEYS: tuple[definitions.ConfigKey[float], ...] = (
    keys.STORAGE_CAPACITY_DISABLE_THRESHOLD,
    keys.STORAGE_ALLOCATED_CAPACITY_DISABLE_THRESHOLD,
    keys.STORAGE_OVERPROVISIONING_FACTOR,
)
#: The keys read once per decision (at the zone), in the order of ``DecisionSettings``' fields.
DECISION_KEYS: tuple[Key, ...] = (
    keys.VOLUME_ALLOCATION_ALGORITHM,
    keys.STORAGE_POOL_ALLOCATORS_ORDER,
    keys.VOLUME_ALLOCATION_CAPACITY_MULTIPLIER,
    keys.VOLUME_ALLOCATION_DISPERSION_MULTIPLIER,
    keys.STORAGE_TAG_RULE_EXECUTION_TIMEOUT,
)
_NAMES = tuple(key.name for key in (*POOL_KEYS, *DECISION_KEYS))
_BY_NAME = {name.casefold(): name for name in _NAMES}

_POOL_FIELDS = ("used_threshold", "allocated_threshold", "overprovisioning_factor")
#: (scope value or "global", owner id or None, key name) → (row id, text).
Texts = dict[tuple[str, int | None, str], tuple[int, str]]


@dataclass(frozen=True)
class PoolSettings:
    """The settings in force at one pool."""

    used_threshold: float
    allocated_threshold: float
    overprovisioning_factor: float


@dataclass(frozen=True)
class DecisionSettings:
    """The settings in force for one decision in one zone."""

    algorithm: str
    allocators_order: str
    capacity_multiplier: float
    dispersion_multiplier: float
    rule_timeout_ms: int


class Found:
    """The texts one query read, resolved on demand (``decision``, ``pool``)."""

    def __init__(self, zone_id: int, texts: Texts) -> None:
        self._zone = zone_id
        self._texts = texts
        owners = {(scope, owner) for scope, owner, _ in texts}
        self._pools = {owner for scope, owner in owners if scope == Scope.STORAGE_POOL.value}
        self._clusters = {owner for scope, owner in owners if scope == Scope.CLUSTER.value}
        self._shared: dict[int | None, PoolSettings] = {}

    @functools.cached_property
    def decision(self) -> DecisionSettings:
        chain = [(Scope.ZONE, self._zone)]
        values = [_value(key, chain, self._texts) for key in DECISION_KEYS]
        return DecisionSettings(*values)

    def pool(self, pool_id: int, cluster_id: int | None) -> PoolSettings:
        """The settings at ``pool_id`` (in ``cluster_id``); raises BadStoredValue.

        The cluster → zone → global values are resolved once per cluster with overrides
        (once for all others); a pool's own texts then replace the fields they set."""
        cluster = cluster_id if cluster_id in self._clusters else None
        base = self._shared.get(cluster)
        if base is None:
            chain = [(Scope.CLUSTER, cluster), (Scope.ZONE, self._zone)]
            base = PoolSettings(*(_value(key, chain, self._texts) for key in POOL_KEYS))
            self._shared[cluster] = base
        if pool_id not in self._pools:
            return base
        own = {}
        for field, key in zip(_POOL_FIELDS, POOL_KEYS, strict=True):
            hit = self._texts.get((Scope.STORAGE_POOL.value, pool_id, key.name))
            if hit is not None and key.supports(Scope.STORAGE_POOL):
                place = store.Place(Scope.STORAGE_POOL, pool_id)
                own[field] = settings.parsed(key, settings.Resolved(hit[1], place))
        return dataclasses.replace(base, **own) if own else base


@functools.cache
def statement(narrowing: str) -> sa.CompoundSelect[Any]:
    """The settings' UNION ALL for one narrowing (``allocators.narrowing``), built once;
    parameters ``zone`` and the narrowing's ``cluster``, ``pod`` or ``pool``."""
    # Constant lists as one bound literal each: the SQL text is then fixed (no expanding IN
    # rendered again at every execution).
    names = [sa.literal(name) for name in _NAMES]
    pool_names = [sa.literal(key.name) for key in POOL_KEYS]
    pool_detail, cluster_detail = storage.StoragePoolDetail, infrastructure.ClusterDetail
    zone_detail, config = infrastructure.DataCenterDetail, configuration.Configuration
    # The details are reached from the narrowed pool ids (a join, not IN): index lookups per
    # candidate pool, whatever the planner knows about the details table.
    pools = narrowing_module.pool_ids(narrowing).subquery("scoped")
    clusters = narrowing_module.cluster_ids(narrowing)
    return sa.union_all(
        sa.select(
            sa.literal(Scope.STORAGE_POOL.value),
            pool_detail.pool_id,
            pool_detail.name,
            pool_detail.value,
            pool_detail.id,
        )
        .select_from(pools)
        .join(pool_detail, pool_detail.pool_id == pools.c.id)
        .where(pool_detail.name.in_(pool_names)),
        sa.select(
            sa.literal(Scope.CLUSTER.value),
            cluster_detail.cluster_id,
            cluster_detail.name,
            cluster_detail.value,
            cluster_detail.id,
        ).where(cluster_detail.cluster_id.in_(clusters), cluster_detail.name.in_(pool_names)),
        sa.select(
            sa.literal(Scope.ZONE.value),
            zone_detail.dc_id,
            zone_detail.name,
            zone_detail.value,
            zone_detail.id,
        ).where(zone_detail.dc_id == sa.bindparam("zone"), zone_detail.name.in_(names)),
        sa.select(sa.literal("global"), sa.null(), config.name, config.value, sa.literal(0)).where(
            config.name.in_(names)
        ),
    )


def read(session: Session, narrowing: str, values: dict[str, int]) -> Found:
    """The settings of a decision: ``narrowing`` and ``values`` as ``statement`` takes them
    (``values["zone"]`` always). One query, through the session (it flushes what is
    pending, so the candidates read after it on the bare connection see it too)."""
    texts: Texts = {}
    for scope, owner, name, value, row_id in session.execute(statement(narrowing), values):
        key_name = _BY_NAME.get(str(name).casefold())
        if key_name is None or value is None:
            continue
        slot = (str(scope), None if owner is None else int(owner), key_name)
        if slot not in texts or int(row_id) < texts[slot][0]:
            texts[slot] = (int(row_id), str(value))
    return Found(values["zone"], texts)


def of_pool(session: Session, zone_id: int, pool_id: int, cluster_id: int | None) -> PoolSettings:
    """The settings at one pool (a claim on a pool the caller chose): one query."""
    return read(session, "one", {"zone": zone_id, "pool": pool_id}).pool(pool_id, cluster_id)


def _value(key: Key, chain: Sequence[tuple[Scope, int | None]], texts: Texts) -> Any:
    """The parsed text nearest along ``chain`` (scopes the key has), then the global value,
    then the default."""
    for scope, owner in chain:
        if owner is None or not key.supports(scope):
            continue
        hit = texts.get((scope.value, owner, key.name))
        if hit is not None:
            return settings.parsed(key, settings.Resolved(hit[1], store.Place(scope, owner)))
    stored = texts.get(("global", None, key.name))
    if stored is not None:
        return settings.parsed(key, settings.Resolved(stored[1]))
    return settings.parsed(key, settings.Resolved(key.default_text, is_default=True))
