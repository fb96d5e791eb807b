"""Resource limits: the default max.account.* and max.domain.* of accounts and domains
without limits of their own.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _LIMITS, _limit

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
