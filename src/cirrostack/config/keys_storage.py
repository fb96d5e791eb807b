"""Storage: volume and disk offering sizes, storage cleanup, downloads, pools.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _ACCOUNT, _IMAGE_STORE, _STORAGE, _ZONE, _stored, _whole

# --- Storage -----------------------------------------------------------------------------------

STORAGE_MAX_VOLUME_SIZE = ConfigKey(
    "storage.max.volume.size",
    int,
    2000,
    "The largest size of a volume, in GB: no disk offering or root disk may be larger",
    category="Storage",
    component=_STORAGE,
    minimum=1,
)
CUSTOM_DISK_OFFERING_MIN_SIZE = ConfigKey(
    "custom.diskoffering.size.min",
    int,
    1,
    "The smallest size of a volume of a custom-size disk offering, in GB (listCapabilities "
    "answers it as customdiskofferingminsize)",
    category="Advanced",
    component=_STORAGE,
    minimum=1,
)
CUSTOM_DISK_OFFERING_MAX_SIZE = ConfigKey(
    "custom.diskoffering.size.max",
    int,
    1024,
    "The largest size of a volume of a custom-size disk offering, in GB (listCapabilities "
    "answers it as customdiskofferingmaxsize)",
    category="Advanced",
    component=_STORAGE,
    minimum=1,
)
STORAGE_CLEANUP_ENABLED = _stored(
    ConfigKey(
        "storage.cleanup.enabled",
        bool,
        True,
        "Whether the storage clean-up task runs (expunges destroyed volumes, unused copies)",
        category="Storage",
        component=_STORAGE,
    )
)
STORAGE_CLEANUP_INTERVAL = _stored(
    _whole(
        "storage.cleanup.interval",
        86400,
        "Seconds between runs of the storage clean-up task",
        _STORAGE,
        category="Storage",
    )
)
STORAGE_CLEANUP_DELAY = _stored(
    _whole(
        "storage.cleanup.delay",
        86400,
        "Seconds a destroyed volume is kept before the clean-up task expunges it",
        _STORAGE,
        category="Storage",
        minimum=0,
    )
)
STORAGE_TEMPLATE_CLEANUP_ENABLED = _stored(
    ConfigKey(
        "storage.template.cleanup.enabled",
        bool,
        True,
        "Whether unused template copies are removed from primary storage",
        category="Storage",
        component=_STORAGE,
    )
)
PRIMARY_STORAGE_DOWNLOAD_WAIT = _stored(
    _whole(
        "primary.storage.download.wait",
        10800,
        "Seconds a template copy to primary storage may take",
        _STORAGE,
        category="Storage",
    )
)
DISK_PROVISIONING_TYPE_STRICTNESS = _stored(
    ConfigKey(
        "disk.provisioning.type.strictness",
        bool,
        False,
        "Whether a volume may only go to a pool that supports its provisioning type",
        category="Storage",
        component=_STORAGE,
        scopes=(_ZONE,),
    )
)
PREFERRED_STORAGE_POOL = _stored(
    ConfigKey(
        "preferred.storage.pool",
        str,
        "",
        "The id of the primary storage pool an account's volumes should go to, when suitable",
        category="Storage",
        component=_STORAGE,
        scopes=(_ACCOUNT,),
    )
)
SECONDARY_STORAGE_NFS_VERSION = _stored(
    ConfigKey(
        "secstorage.nfs.version",
        str,
        "",
        "NFS version used to mount an image store; empty lets the mount negotiate it",
        category="Storage",
        component=_STORAGE,
        scopes=(_IMAGE_STORE,),
    )
)
