"""A host's details (``host_details``) and tags (``host_tags``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db import query
from cirrostack.db.models import infrastructure as models


def of_host(session: Session, host_id: int) -> dict[str, str]:
    """The host's details by name."""
    return of_hosts(session, [host_id]).get(host_id, {})


_DETAILS = query.NameValues(
    models.HostDetail.host_id, models.HostDetail.name, models.HostDetail.value
)


def of_hosts(session: Session, host_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The details of each host by name, in one query (a page of listHosts)."""
    return _DETAILS.of(session, host_ids)


def tags_of(session: Session, host_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of each host in the order given, in one query (a page of listHosts)."""
    if not host_ids:
        return {}
    found: dict[int, list[str]] = {}
    for host_id, tag in session.execute(
        sa.select(models.HostTag.host_id, models.HostTag.tag)
        .where(models.HostTag.host_id.in_(sorted(set(host_ids))))
        .order_by(models.HostTag.id)
    ):
        found.setdefault(host_id, []).append(tag)
    return found


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
    return tags_of(session, [host_id]).get(host_id, [])


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
