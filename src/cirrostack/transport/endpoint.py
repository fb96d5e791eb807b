"""Endpoints: the agent a command is sent to, and how one is picked.

An endpoint names a host's agent by its ``guid`` (the identity the agent reports) and carries
the host's id and name for messages. ``of`` makes one for a known host; ``any_up_in_zone`` is the
selector for work any host of a zone can do (image-store work, later).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure as models


@dataclass(frozen=True)
class Endpoint:
    """Where a command goes: the agent of host ``host_id``."""

    host_id: int
    guid: str
    name: str

    def __str__(self) -> str:
        return f"host {self.name} ({self.guid})"


def of(host: models.Host) -> Endpoint:
    """The endpoint of ``host``; raises ValueError for a host without an agent identity."""
    if host.guid is None:
        raise ValueError(f"host {host.uuid} has no agent (no guid)")
    return Endpoint(host.id, host.guid, host.name)


def any_up_in_zone(session: Session, zone_id: int) -> Endpoint | None:
    """An Up, Enabled routing host of the zone (the lowest id, for stable choices), or None."""
    host = session.scalars(
        sa.select(models.Host)
        .where(
            models.Host.data_center_id == zone_id,
            models.Host.type == "Routing",
            models.Host.status == "Up",
            models.Host.resource_state == "Enabled",
            models.Host.removed.is_(None),
            models.Host.guid.is_not(None),
        )
        .order_by(models.Host.id)
        .limit(1)
    ).first()
    return None if host is None else of(host)
