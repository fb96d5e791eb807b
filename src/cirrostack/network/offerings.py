"""Network offerings: lookups and their service maps (the catalogue is ``offering_seed``;
createNetworkOffering and its kin are ``offering_admin``)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import network as models


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.NetworkOffering:
    """The live network offering with ``uuid``; InvalidParameterValue if none."""
    found = session.scalars(
        sa.select(models.NetworkOffering).where(
            models.NetworkOffering.uuid == uuid, models.NetworkOffering.removed.is_(None)
        )
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find network offering by {parameter} {uuid}")
    return found


def by_unique_name(session: Session, name: str) -> models.NetworkOffering | None:
    return session.scalars(
        sa.select(models.NetworkOffering).where(
            models.NetworkOffering.unique_name == name, models.NetworkOffering.removed.is_(None)
        )
    ).first()


def services_of_each(
    session: Session, offering_ids: Sequence[int]
) -> dict[int, list[tuple[str, str | None]]]:
    """Each offering's (service, provider) pairs, in one query."""
    found: dict[int, list[tuple[str, str | None]]] = {}
    if not offering_ids:
        return found
    rows = session.execute(
        sa.select(
            models.NetworkOfferingService.network_offering_id,
            models.NetworkOfferingService.service,
            models.NetworkOfferingService.provider,
        )
        .where(models.NetworkOfferingService.network_offering_id.in_(set(offering_ids)))
        .order_by(models.NetworkOfferingService.id)
    )
    for offering_id, service, provider in rows:
        found.setdefault(offering_id, []).append((service, provider))
    return found
