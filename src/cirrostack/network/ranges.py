"""IP ranges (``vlan`` rows) and their addresses (one ``user_ip_address`` row each).

A shared network's range has ``vlan_type`` DirectAttached and its addresses the network as
``source_network_id``; a public range (VirtualNetwork) belongs to the zone's public network.
Every address row is inserted Free with the range; NICs claim them (``nics``). Two ranges of
one network cannot share an address: the unique key (address, source network) refuses it,
whoever comes second. A range with an allocated address cannot be deleted.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import base, query, unique
from cirrostack.db.models import network as models
from cirrostack.network import ipv4


class VlanType(enum.StrEnum):
    DirectAttached = "DirectAttached"
    VirtualNetwork = "VirtualNetwork"


class AddressState(enum.StrEnum):
    Free = "Free"
    Allocating = "Allocating"
    Allocated = "Allocated"
    Releasing = "Releasing"
    Reserved = "Reserved"


#: The unique key of an address within the network its range belongs to.
ADDRESS_KEY = "uq_user_ip_address_public_ip_address_source_network_id"


def add(
    session: Session,
    network: models.Network,
    found: ipv4.Range,
    uri: str | None,
    vlan_type: VlanType = VlanType.DirectAttached,
) -> models.Vlan:
    """Insert the range and a Free address row for each of its addresses; the first range
    of a guest network without a CIDR gives it one (a public network's ranges each have
    their own)."""
    guest = vlan_type is VlanType.DirectAttached
    if guest and network.cidr is None:
        network.cidr, network.gateway = found.cidr, str(found.gateway)
    if guest and (str(found.network) != network.cidr or str(found.gateway) != network.gateway):
        raise errors.InvalidParameterValue(
            f"The range's gateway {found.gateway} and netmask {found.netmask} differ from "
            f"network {network.uuid}'s ({network.gateway}, {network.cidr})"
        )
    vlan = models.Vlan(
        vlan_id=uri or "vlan://untagged",
        vlan_gateway=str(found.gateway),
        vlan_netmask=found.netmask,
        description=f"{found.start}-{found.end}",
        vlan_type=vlan_type.value,
        data_center_id=network.data_center_id,
        network_id=network.id,
        physical_network_id=network.physical_network_id,
    )
    session.add(vlan)
    session.flush()
    rows = [
        {
            "uuid": base.new_uuid(),
            "public_ip_address": str(address),
            "data_center_id": network.data_center_id,
            "vlan_db_id": vlan.id,
            "source_network_id": network.id,
            "physical_network_id": network.physical_network_id,
            "state": AddressState.Free.value,
            "mac_address": 0,
            "created": base.utcnow(),
        }
        for address in found.addresses()
    ]
    refusal = errors.InvalidParameterValue(
        f"The range {found.start}-{found.end} overlaps an IP range of network {network.uuid}"
    )
    with unique.refusing(session, ADDRESS_KEY, refusal):
        if rows:
            session.execute(sa.insert(models.UserIpAddress), rows)
    return vlan


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.Vlan:
    found = session.scalars(
        sa.select(models.Vlan).where(models.Vlan.uuid == uuid, models.Vlan.removed.is_(None))
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find vlan ip range by {parameter} {uuid}")
    return found


def bounds(vlan: models.Vlan) -> tuple[str, str]:
    """The first and last address of the range (its ``description``)."""
    start, _, end = (vlan.description or "").partition("-")
    return start, end or start


def remove(session: Session, vlan: models.Vlan) -> None:
    """Delete a range none of whose addresses is allocated: one conditional DELETE of its Free
    rows, then a count of what is left decides (a claim racing with it either landed first and
    is counted, or finds its row gone)."""
    session.execute(
        sa.delete(models.UserIpAddress).where(
            models.UserIpAddress.vlan_db_id == vlan.id,
            models.UserIpAddress.state == AddressState.Free.value,
        )
    )
    left = int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(models.UserIpAddress)
            .where(models.UserIpAddress.vlan_db_id == vlan.id)
        )
        or 0
    )
    if left:
        raise errors.ResourceInUse(
            f"Unable to delete vlan ip range {vlan.uuid}: {left} of its addresses are allocated"
        )
    vlan.removed = base.utcnow()
    session.flush()


def remove_all(session: Session, network: models.Network) -> None:
    """Remove every range of a network being deleted (it has no NICs, so nothing is held)."""
    for vlan in session.scalars(
        sa.select(models.Vlan).where(
            models.Vlan.network_id == network.id, models.Vlan.removed.is_(None)
        )
    ):
        remove(session, vlan)


@dataclass(frozen=True)
class Filter:
    uuid: str | None = None
    zone_id: int | None = None
    network_id: int | None = None
    physical_network_id: int | None = None
    for_virtual_network: bool | None = None
    keyword: str | None = None


def search(session: Session, wanted: Filter, page: query.Page) -> tuple[Sequence[models.Vlan], int]:
    vlan = models.Vlan
    statement = sa.select(vlan).where(
        vlan.removed.is_(None),
        *query.equal_to_given(
            (vlan.uuid, wanted.uuid),
            (vlan.data_center_id, wanted.zone_id),
            (vlan.network_id, wanted.network_id),
            (vlan.physical_network_id, wanted.physical_network_id),
        ),
    )
    if wanted.for_virtual_network is not None:
        kind = VlanType.VirtualNetwork if wanted.for_virtual_network else VlanType.DirectAttached
        statement = statement.where(vlan.vlan_type == kind.value)
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(vlan.vlan_id, wanted.keyword))
    found, total = query.paged(session, statement.order_by(vlan.id), page)
    return list(found), total
