"""Primary storage pools: the stats collector's period.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _STORAGE

#: A String in CloudStack's catalogue (Config.java), so here too; the collector reads it as
#: whole milliseconds (``storage.pool_stats.interval_of``) and falls back to the default.
STORAGE_STATS_INTERVAL = ConfigKey(
    "storage.stats.interval",
    str,
    "60000",
    "The interval (in milliseconds) when storage stats (per pool) are retrieved from agents",
    category="Storage",
    component=_STORAGE,
)
