"""Every resource's state machine, as data; one module per area, every name re-exported here.

Call sites read ``machines.VOLUME.next(state, machines.VolumeEvent.SnapshotRequested)``.
"""

from cirrostack.states.machines.compute import VM, VmEvent, VmState
from cirrostack.states.machines.hosts import (
    HOST_RESOURCE_STATE,
    HOST_STATUS,
    HostStatus,
    HostStatusEvent,
    ResourceState,
    ResourceStateEvent,
)
from cirrostack.states.machines.network import NETWORK, NetworkEvent, NetworkState
from cirrostack.states.machines.pools import (
    STORAGE_POOL_STATUS,
    StoragePoolEvent,
    StoragePoolStatus,
)
from cirrostack.states.machines.storage import (
    OBJECT_IN_DATA_STORE,
    SNAPSHOT,
    TEMPLATE,
    VOLUME,
    ObjectInDataStoreEvent,
    ObjectInDataStoreState,
    SnapshotEvent,
    SnapshotState,
    TemplateEvent,
    TemplateState,
    VolumeEvent,
    VolumeState,
)

#: Every machine, in the order the documentation lists them.
ALL = (
    VM,
    VOLUME,
    SNAPSHOT,
    OBJECT_IN_DATA_STORE,
    TEMPLATE,
    NETWORK,
    HOST_STATUS,
    HOST_RESOURCE_STATE,
    STORAGE_POOL_STATUS,
)

__all__ = [
    "ALL",
    "HOST_RESOURCE_STATE",
    "HOST_STATUS",
    "NETWORK",
    "OBJECT_IN_DATA_STORE",
    "SNAPSHOT",
    "STORAGE_POOL_STATUS",
    "TEMPLATE",
    "VM",
    "VOLUME",
    "HostStatus",
    "HostStatusEvent",
    "NetworkEvent",
    "NetworkState",
    "ObjectInDataStoreEvent",
    "ObjectInDataStoreState",
    "ResourceState",
    "ResourceStateEvent",
    "SnapshotEvent",
    "SnapshotState",
    "StoragePoolEvent",
    "StoragePoolStatus",
    "TemplateEvent",
    "TemplateState",
    "VmEvent",
    "VmState",
    "VolumeEvent",
    "VolumeState",
]
