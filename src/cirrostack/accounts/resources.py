"""CloudStack's resource types (``Resource.ResourceType``): ordinal, name, unit and defaults.

The API names a type by its ordinal (``resourcetype=8``); the tables store its name
(``resource_limit.type = 'cpu'``). Storage types count bytes internally and speak GiB in
``max`` on the API, as CloudStack does. Each type's default limit comes from one
``max.account.*`` and one ``max.domain.*`` key.
"""

from __future__ import annotations

import enum

from cirrostack import errors
from cirrostack.config import definitions, keys

GIB = 1024**3


class ResourceType(enum.IntEnum):
    """``Resource.ResourceType``; the value is CloudStack's ordinal."""

    USER_VM = 0
    PUBLIC_IP = 1
    VOLUME = 2
    SNAPSHOT = 3
    TEMPLATE = 4
    PROJECT = 5
    NETWORK = 6
    VPC = 7
    CPU = 8
    MEMORY = 9
    PRIMARY_STORAGE = 10
    SECONDARY_STORAGE = 11

    @property
    def wire(self) -> str:
        """The name CloudStack stores and prints (``user_vm``)."""
        return self.name.lower()

    @property
    def in_bytes(self) -> bool:
        """Storage types count bytes; their API limit is in GiB."""
        return self in (ResourceType.PRIMARY_STORAGE, ResourceType.SECONDARY_STORAGE)

    def limit_from_api(self, value: int) -> int:
        """A ``max`` as the API gives it, in the stored unit (-1 stays -1)."""
        return value * GIB if self.in_bytes and value > 0 else value

    def limit_to_api(self, value: int) -> int:
        """A stored limit in the unit the API prints ``max`` in."""
        return value // GIB if self.in_bytes and value > 0 else value


def from_ordinal(value: int) -> ResourceType:
    """The type with CloudStack ordinal ``value``; raises InvalidParameterValue otherwise."""
    try:
        return ResourceType(value)
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Please specify valid resource type: {value} is none of 0 to {max(ResourceType)}"
        ) from None


ACCOUNT_DEFAULTS: dict[ResourceType, definitions.ConfigKey[int]] = {
    ResourceType.USER_VM: keys.MAX_ACCOUNT_USER_VMS,
    ResourceType.PUBLIC_IP: keys.MAX_ACCOUNT_PUBLIC_IPS,
    ResourceType.VOLUME: keys.MAX_ACCOUNT_VOLUMES,
    ResourceType.SNAPSHOT: keys.MAX_ACCOUNT_SNAPSHOTS,
    ResourceType.TEMPLATE: keys.MAX_ACCOUNT_TEMPLATES,
    ResourceType.PROJECT: keys.MAX_ACCOUNT_PROJECTS,
    ResourceType.NETWORK: keys.MAX_ACCOUNT_NETWORKS,
    ResourceType.VPC: keys.MAX_ACCOUNT_VPCS,
    ResourceType.CPU: keys.MAX_ACCOUNT_CPUS,
    ResourceType.MEMORY: keys.MAX_ACCOUNT_MEMORY,
    ResourceType.PRIMARY_STORAGE: keys.MAX_ACCOUNT_PRIMARY_STORAGE,
    ResourceType.SECONDARY_STORAGE: keys.MAX_ACCOUNT_SECONDARY_STORAGE,
}

DOMAIN_DEFAULTS: dict[ResourceType, definitions.ConfigKey[int]] = {
    ResourceType.USER_VM: keys.MAX_DOMAIN_USER_VMS,
    ResourceType.PUBLIC_IP: keys.MAX_DOMAIN_PUBLIC_IPS,
    ResourceType.VOLUME: keys.MAX_DOMAIN_VOLUMES,
    ResourceType.SNAPSHOT: keys.MAX_DOMAIN_SNAPSHOTS,
    ResourceType.TEMPLATE: keys.MAX_DOMAIN_TEMPLATES,
    ResourceType.PROJECT: keys.MAX_DOMAIN_PROJECTS,
    ResourceType.NETWORK: keys.MAX_DOMAIN_NETWORKS,
    ResourceType.VPC: keys.MAX_DOMAIN_VPCS,
    ResourceType.CPU: keys.MAX_DOMAIN_CPUS,
    ResourceType.MEMORY: keys.MAX_DOMAIN_MEMORY,
    ResourceType.PRIMARY_STORAGE: keys.MAX_DOMAIN_PRIMARY_STORAGE,
    ResourceType.SECONDARY_STORAGE: keys.MAX_DOMAIN_SECONDARY_STORAGE,
}
