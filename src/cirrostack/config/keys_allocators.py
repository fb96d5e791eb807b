"""The storage pool allocators' own knobs (``cirrostack.allocators``).

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey

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
