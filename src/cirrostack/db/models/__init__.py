"""Every cirrostack model, imported so that ``metadata`` knows every table.

One module per area; the table and column names are CloudStack's.
"""

from cirrostack.db.base import Base
from cirrostack.db.models import (
    accounts,
    capacity,
    compute,
    configuration,
    events,
    guest_os,
    infrastructure,
    jobs,
    limits,
    network,
    offerings,
    physical_network,
    snapshots,
    storage,
    tags,
    templates,
    usage,
)

metadata = Base.metadata

__all__ = [
    "Base",
    "accounts",
    "capacity",
    "compute",
    "configuration",
    "events",
    "guest_os",
    "infrastructure",
    "jobs",
    "limits",
    "metadata",
    "network",
    "offerings",
    "physical_network",
    "snapshots",
    "storage",
    "tags",
    "templates",
    "usage",
]
