"""Virtual machines and networks: expunge and network garbage collection.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _ACCOUNT, _VMS, _stored, _whole

# --- Virtual machines and networks -------------------------------------------------------------

EXPUNGE_DELAY = _stored(
    _whole(
        "expunge.delay",
        86400,
        "Seconds a destroyed VM is kept (and may be recovered) before it is expunged",
        _VMS,
        minimum=0,
    )
)
EXPUNGE_INTERVAL = _stored(
    _whole("expunge.interval", 86400, "Seconds between runs of the VM expunge task", _VMS)
)
EXPUNGE_WORKERS = _stored(
    _whole("expunge.workers", 1, "Number of workers expunging VMs", _VMS, is_dynamic=False)
)
ALLOW_USER_EXPUNGE_RECOVER_VM = ConfigKey(
    "allow.user.expunge.recover.vm",
    bool,
    False,
    "Whether users (not only admins) may expunge and recover their destroyed VMs "
    "(listCapabilities answers it as allowuserexpungerecovervm)",
    component=_VMS,
    scopes=(_ACCOUNT,),
)
VM_USERDATA_MAX_LENGTH = _whole(
    "vm.userdata.max.length",
    32768,
    "Longest base64 user data (characters) deployVirtualMachine and updateVirtualMachine take",
    _VMS,
)
START_RETRY = _whole(
    "start.retry",
    10,
    "Hosts a VM start tries (each failed host avoided) before the start fails",
    _VMS,
)
NETWORK_GC_INTERVAL = _stored(
    _whole(
        "network.gc.interval",
        600,
        "Seconds between runs of the network garbage collector",
        "NetworkManager",
    )
)
NETWORK_GC_WAIT = _stored(
    _whole(
        "network.gc.wait",
        600,
        "Seconds an unused network waits before the garbage collector shuts it down",
        "NetworkManager",
    )
)
