"""What the ``config.keys_*`` modules share: scope and component shorthands, and the helpers
that make a stored-only key, a capacity ratio, a whole number, an account limit.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from cirrostack.config.definitions import ConfigKey, Scope

_POOL, _CLUSTER, _ZONE = Scope.STORAGE_POOL, Scope.CLUSTER, Scope.ZONE
_ACCOUNT, _IMAGE_STORE = Scope.ACCOUNT, Scope.IMAGE_STORE
_CAPACITY, _STORAGE, _AGENT = "CapacityManager", "StorageManager", "AgentManager"
_JOBS, _VMS, _LIMITS = "AsyncJobManager", "UserVmManager", "ResourceLimitManager"
T = TypeVar("T", bool, int, float, str)


def _stored(key: ConfigKey[T]) -> ConfigKey[T]:
    """``key`` marked stored-only: listed and settable, read nowhere yet (it says so)."""
    return dataclasses.replace(key, acted_on=False)


def _ratio(
    name: str,
    default: float,
    description: str,
    *scopes: Scope,
    category: str = "Alert",
    acted_on: bool = False,
) -> ConfigKey[float]:
    """A fraction of a capacity (0 to 1): the disable and notification thresholds.

    Stored-only (``acted_on`` False) until the allocators and capacity alerts read them.
    """
    return ConfigKey(
        name,
        float,
        default,
        description,
        category=category,
        component=_CAPACITY,
        scopes=scopes,
        minimum=0.0,
        maximum=1.0,
        acted_on=acted_on,
    )


def _whole(
    name: str, default: int, description: str, component: str, **more: Any
) -> ConfigKey[int]:
    """A period or a count (its unit in the description), at least ``minimum`` (default 1)."""
    more.setdefault("minimum", 1)
    return ConfigKey(name, int, default, description, component=component, **more)


def _limit(name: str, default: int, what: str) -> ConfigKey[int]:
    """The default resource limit of an account without a limit of its own; -1 is unlimited.
    Read by listResourceLimits and the reservation primitive (``accounts.limits``)."""
    return ConfigKey(
        name,
        int,
        default,
        f"The default maximum {what} an account may have; -1 means no limit",
        category="Account Defaults",
        component=_LIMITS,
        scopes=(_ACCOUNT,),
        minimum=-1,
    )
