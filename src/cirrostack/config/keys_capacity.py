"""Capacity and allocation: disable and notification thresholds, overprovisioning factors,
the allocator's knobs.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

import dataclasses

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _CAPACITY, _CLUSTER, _POOL, _ZONE, _ratio, _stored, _whole

# --- Capacity and allocation -------------------------------------------------------------------

STORAGE_CAPACITY_DISABLE_THRESHOLD = _ratio(
    "pool.storage.capacity.disablethreshold",
    0.85,
    "Fraction of a primary storage pool's physical size in use above which no new volume is "
    "placed on it",
    _POOL,
    _ZONE,
    acted_on=True,
)
STORAGE_ALLOCATED_CAPACITY_DISABLE_THRESHOLD = _ratio(
    "pool.storage.allocated.capacity.disablethreshold",
    0.85,
    "Fraction of a primary storage pool's over-provisioned size allocated above which no new "
    "volume is placed on it",
    _POOL,
    _ZONE,
    acted_on=True,
)
STORAGE_OVERPROVISIONING_FACTOR = ConfigKey(
    "storage.overprovisioning.factor",
    float,
    2.0,
    "Multiplier on a primary storage pool's size for allocation (thin-provisioning pool types)",
    category="Storage",
    component=_CAPACITY,
    scopes=(_POOL,),
    minimum=1.0,
)
CLUSTER_STORAGE_CAPACITY_NOTIFICATION_THRESHOLD = _ratio(
    "cluster.storage.capacity.notificationthreshold",
    0.75,
    "Fraction of a cluster's primary storage in use above which an alert is raised",
    _CLUSTER,
)
CLUSTER_STORAGE_ALLOCATED_CAPACITY_NOTIFICATION_THRESHOLD = _ratio(
    "cluster.storage.allocated.capacity.notificationthreshold",
    0.75,
    "Fraction of a cluster's primary storage allocated above which an alert is raised",
    _CLUSTER,
)
CLUSTER_LOCAL_STORAGE_CAPACITY_NOTIFICATION_THRESHOLD = _ratio(
    "cluster.localStorage.capacity.notificationthreshold",
    0.75,
    "Fraction of a cluster's local storage in use above which an alert is raised",
    _CLUSTER,
)
# Read by template registration (``storage.templates``) when it chooses image stores.
SECONDARY_STORAGE_CAPACITY_THRESHOLD = dataclasses.replace(
    _ratio(
        "secondary.storage.capacity.threshold",
        0.90,
        "Fraction of an image store in use above which it is not chosen for new data",
        category="Storage",
    ),
    acted_on=True,
)
CPU_OVERPROVISIONING_FACTOR = ConfigKey(
    "cpu.overprovisioning.factor",
    float,
    1.0,
    "Multiplier on a cluster's CPU capacity for allocation; a cluster keeps its own as "
    "cpuOvercommitRatio",
    category="Advanced",
    component=_CAPACITY,
    scopes=(_CLUSTER,),
    minimum=1.0,
)
MEM_OVERPROVISIONING_FACTOR = ConfigKey(
    "mem.overprovisioning.factor",
    float,
    1.0,
    "Multiplier on a cluster's memory capacity for allocation; a cluster keeps its own as "
    "memoryOvercommitRatio",
    category="Advanced",
    component=_CAPACITY,
    scopes=(_CLUSTER,),
    minimum=1.0,
)
CLUSTER_CPU_DISABLE_THRESHOLD = _ratio(
    "cluster.cpu.allocated.capacity.disablethreshold",
    0.85,
    "Fraction of a cluster's CPU allocated above which the planner skips the cluster",
    _CLUSTER,
    acted_on=True,
)
CLUSTER_MEMORY_DISABLE_THRESHOLD = _ratio(
    "cluster.memory.allocated.capacity.disablethreshold",
    0.85,
    "Fraction of a cluster's memory allocated above which the planner skips the cluster",
    _CLUSTER,
    acted_on=True,
)
# Read by the host planner (``allocators.hosts``).
CLUSTER_THRESHOLD_ENABLED = ConfigKey(
    "cluster.threshold.enabled",
    bool,
    True,
    "Whether the cluster CPU and memory disable thresholds are applied",
    category="Alert",
    component=_CAPACITY,
    acted_on=True,
)
CLUSTER_CPU_NOTIFICATION_THRESHOLD = _ratio(
    "cluster.cpu.allocated.capacity.notificationthreshold",
    0.75,
    "Fraction of a cluster's CPU allocated above which an alert is raised",
    _CLUSTER,
)
CLUSTER_MEMORY_NOTIFICATION_THRESHOLD = _ratio(
    "cluster.memory.allocated.capacity.notificationthreshold",
    0.75,
    "Fraction of a cluster's memory allocated above which an alert is raised",
    _CLUSTER,
)
ZONE_SECONDARY_STORAGE_NOTIFICATION_THRESHOLD = _ratio(
    "zone.secstorage.capacity.notificationthreshold",
    0.75,
    "Fraction of a zone's secondary storage in use above which an alert is raised",
    _ZONE,
)
ZONE_PUBLIC_IP_NOTIFICATION_THRESHOLD = _ratio(
    "zone.virtualnetwork.publicip.capacity.notificationthreshold",
    0.75,
    "Fraction of a zone's public IP addresses in use above which an alert is raised",
    _ZONE,
)
ZONE_VLAN_NOTIFICATION_THRESHOLD = _ratio(
    "zone.vlan.capacity.notificationthreshold",
    0.75,
    "Fraction of a zone's guest VLANs in use above which an alert is raised",
    _ZONE,
)
ZONE_DIRECT_PUBLIC_IP_NOTIFICATION_THRESHOLD = _ratio(
    "zone.directnetwork.publicip.capacity.notificationthreshold",
    0.75,
    "Fraction of a zone's direct-network public IP addresses in use above which an alert is raised",
    _ZONE,
)
POD_PRIVATE_IP_NOTIFICATION_THRESHOLD = _ratio(
    "pod.privateip.capacity.notificationthreshold",
    0.75,
    "Fraction of a pod's private IP addresses in use above which an alert is raised (pods "
    "have no settings of their own: set it for the zone)",
    _ZONE,
)
# Read by the host planner (``allocators.hosts``).
VM_ALLOCATION_ALGORITHM = ConfigKey(
    "vm.allocation.algorithm",
    str,
    "random",
    "Order in which hosts and pools are tried for a new VM",
    component="DeploymentPlanningManager",
    choices=(
        "random",
        "firstfit",
        "userdispersing",
        "userconcentratedpod_random",
        "userconcentratedpod_firstfit",
        "firstfitleastconsumed",
    ),
    acted_on=True,
)
# Read by the host planner (``allocators.hosts``).
HOST_CAPACITY_TYPE_TO_ORDER_CLUSTERS = ConfigKey(
    "host.capacityType.to.order.clusters",
    str,
    "CPU",
    "Capacity by which clusters are ordered for a new VM: CPU or RAM",
    component="DeploymentPlanningManager",
    choices=("CPU", "RAM"),
    acted_on=True,
)
ALLOW_ADMIN_VM_ON_DISABLED_RESOURCES = ConfigKey(
    "allow.admin.vm.on.disabled.resources",
    bool,
    False,
    "Whether a root admin's VM may be placed in a disabled zone, pod or cluster",
    category="Advanced",
    component="DeploymentPlanningManager",
    acted_on=True,
)
CAPACITY_CHECK_PERIOD = _stored(
    _whole(
        "capacity.check.period",
        300000,
        "Milliseconds between capacity recalculations and capacity alerts",
        _CAPACITY,
        category="Alert",
    )
)
CAPACITY_SKIP_COUNTING_HOURS = _stored(
    _whole(
        "capacity.skipcounting.hours",
        3600,
        "Seconds (despite the name) a stopped VM keeps its capacity reserved on its last host",
        _CAPACITY,
        minimum=0,
    )
)
