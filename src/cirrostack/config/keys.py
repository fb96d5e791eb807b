"""The settings cirrostack reads, declared once as typed keys, and ``REGISTRY`` of them all.

Names, defaults and scopes are CloudStack's (schema reference, section 11, and CloudStack's
ConfigKey declarations), so an operator's runbook and ``cs updateConfiguration`` keep working.
Keys CloudStack does not have are marked "cirrostack:" in their description.

Business code reads a key through ``config.settings.Settings``::

    factor = settings.Settings(session).get(keys.STORAGE_OVERPROVISIONING_FACTOR, pool_id=pool.id)

A key declared here that nothing reads yet is wrapped in ``_stored`` (or made by a helper that
says so): it is listed with a description saying cirrostack does not act on it. A test checks
both directions: every key acted on is read somewhere in ``src/``, no stored-only key is. The
rest of CloudStack's catalogue comes from ``config.catalogue`` (all stored-only).

``ALL`` is written out (no collection by introspection); a test checks that every key declared
here is in it, and ``Registry`` refuses a duplicate name when the module is imported.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from cirrostack.config import definitions
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
    name: str, default: float, description: str, *scopes: Scope, category: str = "Alert"
) -> ConfigKey[float]:
    """A fraction of a capacity (0 to 1): the disable and notification thresholds.

    Stored-only until the allocators and capacity alerts of the storage and VM work read them.
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
        acted_on=False,
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


# --- Capacity and allocation -------------------------------------------------------------------

STORAGE_CAPACITY_DISABLE_THRESHOLD = _ratio(
    "pool.storage.capacity.disablethreshold",
    0.85,
    "Fraction of a primary storage pool's physical size in use above which no new volume is "
    "placed on it",
    _POOL,
    _ZONE,
)
STORAGE_ALLOCATED_CAPACITY_DISABLE_THRESHOLD = _ratio(
    "pool.storage.allocated.capacity.disablethreshold",
    0.85,
    "Fraction of a primary storage pool's over-provisioned size allocated above which no new "
    "volume is placed on it",
    _POOL,
    _ZONE,
)
STORAGE_OVERPROVISIONING_FACTOR = _stored(
    ConfigKey(
        "storage.overprovisioning.factor",
        float,
        2.0,
        "Multiplier on a primary storage pool's size for allocation (thin-provisioning pool types)",
        category="Storage",
        component=_CAPACITY,
        scopes=(_POOL,),
        minimum=1.0,
    )
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
SECONDARY_STORAGE_CAPACITY_THRESHOLD = _ratio(
    "secondary.storage.capacity.threshold",
    0.90,
    "Fraction of an image store in use above which it is not chosen for new data",
    category="Storage",
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
)
CLUSTER_MEMORY_DISABLE_THRESHOLD = _ratio(
    "cluster.memory.allocated.capacity.disablethreshold",
    0.85,
    "Fraction of a cluster's memory allocated above which the planner skips the cluster",
    _CLUSTER,
)
CLUSTER_THRESHOLD_ENABLED = _stored(
    ConfigKey(
        "cluster.threshold.enabled",
        bool,
        True,
        "Whether the cluster CPU and memory disable thresholds are applied",
        category="Alert",
        component=_CAPACITY,
    )
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
VM_ALLOCATION_ALGORITHM = _stored(
    ConfigKey(
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
    )
)
HOST_CAPACITY_TYPE_TO_ORDER_CLUSTERS = _stored(
    ConfigKey(
        "host.capacityType.to.order.clusters",
        str,
        "CPU",
        "Capacity by which clusters are ordered for a new VM: CPU or RAM",
        component="DeploymentPlanningManager",
        choices=("CPU", "RAM"),
    )
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

# --- Agents, jobs, API, events -----------------------------------------------------------------

PING_INTERVAL = _whole("ping.interval", 60, "Seconds between the pings a host agent sends", _AGENT)
PING_TIMEOUT = ConfigKey(
    "ping.timeout",
    float,
    2.5,
    "Multiplier on ping.interval after which a host that has not pinged is considered lost",
    component=_AGENT,
    minimum=1.0,
)
JOB_EXPIRE_MINUTES = _stored(
    _whole(
        "job.expire.minutes",
        1440,
        "Minutes a finished async job is kept before it is purged",
        _JOBS,
    )
)
JOB_CANCEL_THRESHOLD_MINUTES = _whole(
    "job.cancel.threshold.minutes",
    60,
    "Minutes an async job may run without showing activity (its steps, checkpoints, agent "
    "progress) before it is failed as stuck; its lease is not renewed past it and its "
    "resources are recovered",
    _JOBS,
    minimum=1,
)
JOB_WORKERS = _whole(
    "job.workers",
    4,
    "cirrostack: number of async-job worker threads of each management server",
    _JOBS,
    maximum=256,
    is_dynamic=False,
)
JOB_LEASE_SECONDS = _whole(
    "job.lease.seconds",
    60,
    "cirrostack: seconds a worker's claim on a job lasts without a heartbeat (heartbeats "
    "come every third of it); a job whose lease ran out is taken over by the reaper. Read "
    "at each claim and heartbeat, so a new value applies without a restart",
    _JOBS,
    minimum=5,
)
DEFAULT_PAGE_SIZE = ConfigKey(
    "default.page.size",
    int,
    500,
    "Items a list answers without page/pagesize, and the largest pagesize allowed",
    component="ManagementServer",
    minimum=1,
    is_dynamic=False,
)
EVENT_PURGE_DELAY = _stored(
    ConfigKey(
        "event.purge.delay",
        int,
        15,
        "Days an event is kept before it is purged; 0 keeps events forever",
        component="ManagementServer",
        minimum=0,
    )
)
EVENT_PURGE_INTERVAL = _stored(
    _whole(
        "event.purge.interval",
        86400,
        "Seconds between runs of the event purge task",
        "ManagementServer",
    )
)

# --- Account defaults --------------------------------------------------------------------------

MAX_ACCOUNT_USER_VMS = _limit("max.account.user.vms", 20, "number of VMs")
MAX_ACCOUNT_VOLUMES = _limit("max.account.volumes", 20, "number of volumes")
MAX_ACCOUNT_SNAPSHOTS = _limit("max.account.snapshots", 20, "number of snapshots")
MAX_ACCOUNT_TEMPLATES = _limit("max.account.templates", 20, "number of templates")
MAX_ACCOUNT_CPUS = _limit("max.account.cpus", 40, "number of CPU cores")
MAX_ACCOUNT_MEMORY = _limit("max.account.memory", 40960, "memory in MiB")
MAX_ACCOUNT_PRIMARY_STORAGE = _limit("max.account.primary.storage", 200, "primary storage in GiB")
MAX_ACCOUNT_SECONDARY_STORAGE = _limit(
    "max.account.secondary.storage", 400, "secondary storage in GiB"
)

# --- Sessions and cross-site requests (http) ---------------------------------------------------

#: Where a request's session key may come from; CloudStack's ApiSessionKeyCheckOption values.
SESSION_KEY_LOCATIONS = ("CookieOrParameter", "ParameterOnly", "CookieAndParameter")
API_SESSIONKEY_CHECK_LOCATIONS = ConfigKey(
    "api.sessionkey.check.locations",
    str,
    "CookieAndParameter",
    "The locations of 'sessionkey' during the validation of the API requests. Valid options "
    "are: CookieOrParameter, ParameterOnly, CookieAndParameter (default).",
    component="ApiServer",
    choices=SESSION_KEY_LOCATIONS,
)
API_SESSIONKEY_COOKIE_SAMESITE = ConfigKey(
    "api.sessionkey.cookie.samesite",
    str,
    "Lax",
    "The SameSite attribute of cookie 'sessionkey'. Valid options are: Lax (default), Strict, "
    "NoneAndSecure and Null.",
    component="ApiServer",
    choices=("Lax", "Strict", "NoneAndSecure", "Null"),
)

# --- configuration truth (config) -------------------------------------------------------------

ALLOW_USER_VIEW_DESTROYED_VM = ConfigKey(
    "allow.user.view.destroyed.vm",
    bool,
    False,
    "Whether users can view their destroyed or expunging VMs (listCapabilities answers it as "
    "allowuserviewdestroyedvm)",
    component="QueryManager",
    scopes=(_ACCOUNT,),
)
ALLOW_PUBLIC_USER_TEMPLATES = ConfigKey(
    "allow.public.user.templates",
    bool,
    True,
    "If false, users will not be able to create public templates (listCapabilities answers it "
    "as userpublictemplateenabled)",
    component="TemplateManager",
    scopes=(_ACCOUNT,),
)
ALLOW_USER_CREATE_PROJECTS = ConfigKey(
    "allow.user.create.projects",
    bool,
    True,
    "If regular user can create a project; true by default (listCapabilities answers it as "
    "allowusercreateprojects)",
    category="Project Defaults",
    component="management-server",
    is_dynamic=False,
)
PROJECT_INVITE_REQUIRED = ConfigKey(
    "project.invite.required",
    bool,
    False,
    "If invitation confirmation is required when add account to project (listCapabilities "
    "answers it as projectinviterequired)",
    category="Project Defaults",
    component="management-server",
    is_dynamic=False,
)

# --- Logins and passwords ----------------------------------------------------------------------

_DOMAIN_SCOPE, _POLICY = Scope.DOMAIN, "PasswordPolicyImpl"

INCORRECT_LOGIN_ATTEMPTS_ALLOWED = ConfigKey(
    "incorrect.login.attempts.allowed",
    int,
    5,
    "Incorrect login attempts allowed before the user is disabled (when value > 0). If value "
    "<= 0 users are not disabled after failed login attempts. Root admins are never disabled "
    "this way (as in CloudStack); a good login, or enableUser, resets the count",
    component="ManagementServer",
)


def _policy_count(name: str, description: str) -> ConfigKey[int]:
    """A password.policy.* minimum (0 means no requirement), settable per domain."""
    return ConfigKey(
        name, int, 0, description, component=_POLICY, scopes=(_DOMAIN_SCOPE,), minimum=0
    )


PASSWORD_POLICY_MINIMUM_SPECIAL_CHARACTERS = _policy_count(
    "password.policy.minimum.special.characters",
    "Minimum number of special characters that the user's password must have. Any character "
    "that is neither a letter nor numeric is considered special. The value 0 means the user's "
    "password does not require any special characters.",
)
PASSWORD_POLICY_MINIMUM_LENGTH = _policy_count(
    "password.policy.minimum.length",
    "Minimum length that the user's password must have. The value 0 means the user's password "
    "can have any length.",
)
PASSWORD_POLICY_MINIMUM_UPPERCASE_LETTERS = _policy_count(
    "password.policy.minimum.uppercase.letters",
    "Minimum number of uppercase letters [A-Z] that the user's password must have. The value 0 "
    "means the user's password does not require any uppercase letters.",
)
PASSWORD_POLICY_MINIMUM_LOWERCASE_LETTERS = _policy_count(
    "password.policy.minimum.lowercase.letters",
    "Minimum number of lowercase letters [a-z] that the user's password must have. The value 0 "
    "means the user's password does not require any lowercase letters.",
)
PASSWORD_POLICY_MINIMUM_DIGITS = _policy_count(
    "password.policy.minimum.digits",
    "Minimum number of numeric characters [0-9] that the user's password must have. The value "
    "0 means the user's password does not require any numeric characters.",
)
PASSWORD_POLICY_ALLOW_PASSWORD_TO_CONTAIN_USERNAME = ConfigKey(
    "password.policy.allowPasswordToContainUsername",
    bool,
    True,
    "Indicates if the user's password may contain their username. Set 'true' (default) if it "
    "is allowed, otherwise set 'false'.",
    component=_POLICY,
    scopes=(_DOMAIN_SCOPE,),
)
PASSWORD_POLICY_REGEX = ConfigKey(
    "password.policy.regex",
    str,
    ".+",
    "A regular expression that the user's password must match. The default expression '.+' "
    "will match with any password.",
    component=_POLICY,
    scopes=(_DOMAIN_SCOPE,),
)
ALLOW_OPERATIONS_ON_USERS_IN_SAME_ACCOUNT = ConfigKey(
    "allow.operations.on.users.in.same.account",
    bool,
    True,
    "Allow operations on users among them in the same account (setting another user's "
    "password or API keys, locking, disabling or enabling it); read at the caller's domain",
    component="AccountManager",
    scopes=(_DOMAIN_SCOPE,),
)

# --- Resource limits (roles) --------------------------------------------------------------------


def _domain_limit(name: str, default: int, what: str) -> ConfigKey[int]:
    """The default resource limit of a domain without a limit of its own; -1 is unlimited."""
    return ConfigKey(
        name,
        int,
        default,
        f"The default maximum {what} a domain (with all its subdomains) may have; "
        "-1 means no limit",
        category="Domain Defaults",
        component=_LIMITS,
        minimum=-1,
    )


MAX_ACCOUNT_PUBLIC_IPS = _limit("max.account.public.ips", 20, "number of public IP addresses")
MAX_ACCOUNT_PROJECTS = _limit("max.account.projects", 10, "number of projects")
MAX_ACCOUNT_NETWORKS = _limit("max.account.networks", 20, "number of networks")
MAX_ACCOUNT_VPCS = _limit("max.account.vpcs", 20, "number of VPCs")
MAX_DOMAIN_USER_VMS = _domain_limit("max.domain.user.vms", 40, "number of VMs")
MAX_DOMAIN_PUBLIC_IPS = _domain_limit("max.domain.public.ips", 40, "number of public IP addresses")
MAX_DOMAIN_VOLUMES = _domain_limit("max.domain.volumes", 40, "number of volumes")
MAX_DOMAIN_SNAPSHOTS = _domain_limit("max.domain.snapshots", 40, "number of snapshots")
MAX_DOMAIN_TEMPLATES = _domain_limit("max.domain.templates", 40, "number of templates")
MAX_DOMAIN_PROJECTS = _domain_limit("max.domain.projects", 50, "number of projects")
MAX_DOMAIN_NETWORKS = _domain_limit("max.domain.networks", 40, "number of networks")
MAX_DOMAIN_VPCS = _domain_limit("max.domain.vpcs", 40, "number of VPCs")
MAX_DOMAIN_CPUS = _domain_limit("max.domain.cpus", 80, "number of CPU cores")
MAX_DOMAIN_MEMORY = _domain_limit("max.domain.memory", 81920, "memory in MiB")
MAX_DOMAIN_PRIMARY_STORAGE = _domain_limit(
    "max.domain.primary.storage", 400, "primary storage in GiB"
)
MAX_DOMAIN_SECONDARY_STORAGE = _domain_limit(
    "max.domain.secondary.storage", 800, "secondary storage in GiB"
)

ALL: tuple[ConfigKey[Any], ...] = (
    STORAGE_CAPACITY_DISABLE_THRESHOLD,
    STORAGE_ALLOCATED_CAPACITY_DISABLE_THRESHOLD,
    STORAGE_OVERPROVISIONING_FACTOR,
    CLUSTER_STORAGE_CAPACITY_NOTIFICATION_THRESHOLD,
    CLUSTER_STORAGE_ALLOCATED_CAPACITY_NOTIFICATION_THRESHOLD,
    CLUSTER_LOCAL_STORAGE_CAPACITY_NOTIFICATION_THRESHOLD,
    SECONDARY_STORAGE_CAPACITY_THRESHOLD,
    CPU_OVERPROVISIONING_FACTOR,
    MEM_OVERPROVISIONING_FACTOR,
    CLUSTER_CPU_DISABLE_THRESHOLD,
    CLUSTER_MEMORY_DISABLE_THRESHOLD,
    CLUSTER_THRESHOLD_ENABLED,
    CLUSTER_CPU_NOTIFICATION_THRESHOLD,
    CLUSTER_MEMORY_NOTIFICATION_THRESHOLD,
    ZONE_SECONDARY_STORAGE_NOTIFICATION_THRESHOLD,
    ZONE_PUBLIC_IP_NOTIFICATION_THRESHOLD,
    ZONE_VLAN_NOTIFICATION_THRESHOLD,
    ZONE_DIRECT_PUBLIC_IP_NOTIFICATION_THRESHOLD,
    POD_PRIVATE_IP_NOTIFICATION_THRESHOLD,
    VM_ALLOCATION_ALGORITHM,
    HOST_CAPACITY_TYPE_TO_ORDER_CLUSTERS,
    CAPACITY_CHECK_PERIOD,
    CAPACITY_SKIP_COUNTING_HOURS,
    STORAGE_MAX_VOLUME_SIZE,
    CUSTOM_DISK_OFFERING_MIN_SIZE,
    CUSTOM_DISK_OFFERING_MAX_SIZE,
    STORAGE_CLEANUP_ENABLED,
    STORAGE_CLEANUP_INTERVAL,
    STORAGE_CLEANUP_DELAY,
    STORAGE_TEMPLATE_CLEANUP_ENABLED,
    PRIMARY_STORAGE_DOWNLOAD_WAIT,
    DISK_PROVISIONING_TYPE_STRICTNESS,
    PREFERRED_STORAGE_POOL,
    SECONDARY_STORAGE_NFS_VERSION,
    EXPUNGE_DELAY,
    EXPUNGE_INTERVAL,
    EXPUNGE_WORKERS,
    ALLOW_USER_EXPUNGE_RECOVER_VM,
    NETWORK_GC_INTERVAL,
    NETWORK_GC_WAIT,
    PING_INTERVAL,
    PING_TIMEOUT,
    JOB_EXPIRE_MINUTES,
    JOB_CANCEL_THRESHOLD_MINUTES,
    JOB_WORKERS,
    JOB_LEASE_SECONDS,
    DEFAULT_PAGE_SIZE,
    EVENT_PURGE_DELAY,
    EVENT_PURGE_INTERVAL,
    MAX_ACCOUNT_USER_VMS,
    MAX_ACCOUNT_VOLUMES,
    MAX_ACCOUNT_SNAPSHOTS,
    MAX_ACCOUNT_TEMPLATES,
    MAX_ACCOUNT_CPUS,
    MAX_ACCOUNT_MEMORY,
    MAX_ACCOUNT_PRIMARY_STORAGE,
    MAX_ACCOUNT_SECONDARY_STORAGE,
    API_SESSIONKEY_CHECK_LOCATIONS,
    API_SESSIONKEY_COOKIE_SAMESITE,
    ALLOW_USER_VIEW_DESTROYED_VM,
    ALLOW_PUBLIC_USER_TEMPLATES,
    ALLOW_USER_CREATE_PROJECTS,
    PROJECT_INVITE_REQUIRED,
    INCORRECT_LOGIN_ATTEMPTS_ALLOWED,
    PASSWORD_POLICY_MINIMUM_SPECIAL_CHARACTERS,
    PASSWORD_POLICY_MINIMUM_LENGTH,
    PASSWORD_POLICY_MINIMUM_UPPERCASE_LETTERS,
    PASSWORD_POLICY_MINIMUM_LOWERCASE_LETTERS,
    PASSWORD_POLICY_MINIMUM_DIGITS,
    PASSWORD_POLICY_ALLOW_PASSWORD_TO_CONTAIN_USERNAME,
    PASSWORD_POLICY_REGEX,
    ALLOW_OPERATIONS_ON_USERS_IN_SAME_ACCOUNT,
    MAX_ACCOUNT_PUBLIC_IPS,
    MAX_ACCOUNT_PROJECTS,
    MAX_ACCOUNT_NETWORKS,
    MAX_ACCOUNT_VPCS,
    MAX_DOMAIN_USER_VMS,
    MAX_DOMAIN_PUBLIC_IPS,
    MAX_DOMAIN_VOLUMES,
    MAX_DOMAIN_SNAPSHOTS,
    MAX_DOMAIN_TEMPLATES,
    MAX_DOMAIN_PROJECTS,
    MAX_DOMAIN_NETWORKS,
    MAX_DOMAIN_VPCS,
    MAX_DOMAIN_CPUS,
    MAX_DOMAIN_MEMORY,
    MAX_DOMAIN_PRIMARY_STORAGE,
    MAX_DOMAIN_SECONDARY_STORAGE,
)

REGISTRY = definitions.Registry(ALL)
