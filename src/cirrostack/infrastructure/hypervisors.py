"""The hypervisor types cirrostack manages, and listHypervisors' answer.

``Simulator`` hosts run in-process (``cirrostack.agent.backends.simulator``); ``KVM`` clusters
can be created, but KVM hosts need the cirrostack agent, which does not exist yet.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import infrastructure as models


class HypervisorType(enum.StrEnum):
    """CloudStack's names for the hypervisors cirrostack knows."""

    KVM = "KVM"
    Simulator = "Simulator"


def parse(text: str, parameter: str = "hypervisor") -> HypervisorType:
    """The hypervisor ``text`` names (any case); InvalidParameterValue for any other."""
    for kind in HypervisorType:
        if kind.value.lower() == text.strip().lower():
            return kind
    raise errors.InvalidParameterValue(
        f"Invalid {parameter} {text}: supported hypervisors are "
        + ", ".join(kind.value for kind in HypervisorType)
    )


def listed(session: Session, zone: models.DataCenter | None) -> list[str]:
    """listHypervisors: every supported type, or with a zone the types of its live clusters."""
    if zone is None:
        return [kind.value for kind in HypervisorType]
    found = session.scalars(
        sa.select(models.Cluster.hypervisor_type)
        .where(
            models.Cluster.data_center_id == zone.id,
            models.Cluster.removed.is_(None),
            models.Cluster.hypervisor_type.is_not(None),
        )
        .distinct()
    )
    return sorted(name for name in found if name)
