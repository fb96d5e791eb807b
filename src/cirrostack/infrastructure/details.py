"""A host's details (``host_details``) and tags (``host_tags``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure as models


def of_host(session: Session, host_id: int) -> dict[str, str]:
    """The host's details by name."""
    found = session.execute(
        sa.select(models.HostDetail.name, models.HostDetail.value)
        .where(models.HostDetail.host_id == host_id)
        .order_by(models.HostDetail.id)
    )
    return {name: value for name, value in found}


def set_for_host(session: Session, host_id: int, values: Mapping[str, str]) -> None:
    """Set (insert or overwrite) the named details of the host."""
    current = {
        detail.name: detail
        for detail in session.scalars(
            sa.select(models.HostDetail).where(models.HostDetail.host_id == host_id)
        )
    }
    for name, value in values.items():
        if name in current:
            current[name].value = value
        else:
            session.add(models.HostDetail(host_id=host_id, name=name, value=value))
    session.flush()


def tags(session: Session, host_id: int) -> list[str]:
    """The host's tags, in the order they were given."""
    return list(
        session.scalars(
            sa.select(models.HostTag.tag)
            .where(models.HostTag.host_id == host_id)
            .order_by(models.HostTag.id)
        )
    )


def set_tags(session: Session, host_id: int, wanted: Iterable[str]) -> None:
    """Replace the host's tags by ``wanted`` (blank and repeated tags dropped)."""
    session.execute(sa.delete(models.HostTag).where(models.HostTag.host_id == host_id))
    kept = list(dict.fromkeys(tag.strip() for tag in wanted if tag.strip()))
    session.add_all(models.HostTag(host_id=host_id, tag=tag) for tag in kept)
    session.flush()


def remove_all(session: Session, host_id: int) -> None:
    """Delete the host's details and tags (when the host is deleted)."""
    session.execute(sa.delete(models.HostDetail).where(models.HostDetail.host_id == host_id))
    session.execute(sa.delete(models.HostTag).where(models.HostTag.host_id == host_id))
