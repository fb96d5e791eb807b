"""The storage pool allocators' own knobs (``cirrostack.allocators``).

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey, Scope

_PLANNER = "DeploymentPlanningManager"

VOLUME_ALLOCATION_ALGORITHM = ConfigKey(
    "volume.allocation.algorithm",
    str,
    "random",
    "Order in which suitable storage pools are tried for a new volume (firstfitleastconsumed: "
    "most free allocated capacity first; userdispersing: fewest of the owner's volumes first)",
    category="Advanced",
    component=_PLANNER,
    choices=(
        "random",
        "firstfit",
        "userdispersing",
        "userconcentratedpod_random",
        "userconcentratedpod_firstfit",
        "firstfitleastconsumed",
    ),
)
STORAGE_POOL_ALLOCATORS_ORDER = ConfigKey(
    "storage.pool.allocators.order",
    str,
    "LocalStorage,ClusterScopeStoragePoolAllocator,ZoneWideStoragePoolAllocator",
    "The storage pool allocators asked in turn for a volume, comma separated; the first with "
    "a suitable pool wins (LocalStorage, ClusterScopeStoragePoolAllocator, "
    "ZoneWideStoragePoolAllocator)",
    category="Advanced",
    component=_PLANNER,
)


def _multiplier(name: str, what: str, algorithm: str) -> ConfigKey[float]:
    """A weigher's multiplier: cirrostack's own, zone-scoped (a decision is in one zone)."""
    return ConfigKey(
        name,
        float,
        1.0,
        f"cirrostack: multiplier of the storage allocator's {what} weigher, which orders "
        f"suitable pools when volume.allocation.algorithm is {algorithm}; its value, "
        "normalised over the suitable pools to 0..1, is multiplied by this (0 turns the "
        "ordering off, a negative value reverses it). CloudStack has no such setting",
        category="Advanced",
        component=_PLANNER,
        scopes=(Scope.ZONE,),
        minimum=-1000.0,
        maximum=1000.0,
    )


VOLUME_ALLOCATION_CAPACITY_MULTIPLIER = _multiplier(
    "volume.allocation.capacity.multiplier",
    "free allocated capacity (more free first)",
    "firstfitleastconsumed",
)
VOLUME_ALLOCATION_DISPERSION_MULTIPLIER = _multiplier(
    "volume.allocation.dispersion.multiplier",
    "user dispersion (fewer of the owner's volumes first)",
    "userdispersing",
)
#: CloudStack's VolumeApiServiceImpl key (4.19, #7489): the bound on one rule tag's run.
STORAGE_TAG_RULE_EXECUTION_TIMEOUT = ConfigKey(
    "storage.tag.rule.execution.timeout",
    int,
    2000,
    "The maximum runtime, in milliseconds, to execute a storage tag rule; if it is reached, "
    "a timeout will happen (cirrostack evaluates a subset of JavaScript: docs/allocators.md)",
    category="Advanced",
    component="VolumeApiServiceImpl",
    minimum=1,
)
