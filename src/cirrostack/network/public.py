"""The zone's public network and its addresses (what listPublicIpAddresses shows).

CloudStack creates a zone's system networks (Public, Management, Control, Storage) with the
zone; cirrostack creates the Public one when the zone's first public range is added
(createVlanIpRange forvirtualnetwork=true): owned by the system account, offering
System-Public-Network, guru PublicNetworkGuru, state Setup, on the physical network carrying
Public traffic. Nothing associates public addresses yet (no associateIpAddress, no source NAT
without routers), so they stay Free; guest (DirectAttached) ranges' addresses are not public
and never listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.db import query
from cirrostack.db.models import infrastructure
from cirrostack.db.models import network as models
from cirrostack.network import offerings, physical, ranges

SYSTEM_ACCOUNT_ID = 1
ROOT_DOMAIN_ID = 1
PUBLIC_OFFERING = "System-Public-Network"
PUBLIC_GURU = "PublicNetworkGuru"


def public_network(session: Session, zone: infrastructure.DataCenter) -> models.Network:
    """The zone's Public network, created (locking the zone row) on first use."""
    session.scalars(
        sa.select(infrastructure.DataCenter.id)
        .where(infrastructure.DataCenter.id == zone.id)
        .with_for_update()
    ).one()
    found = session.scalars(
        sa.select(models.Network).where(
            models.Network.data_center_id == zone.id,
            models.Network.traffic_type == "Public",
            models.Network.removed.is_(None),
        )
    ).first()
    if found is not None:
        return found
    carrier = physical.carrying(session, zone.id, physical.TrafficType.Public)
    offering = offerings.by_unique_name(session, PUBLIC_OFFERING)
    if carrier is None or offering is None:
        raise errors.InvalidParameterValue(
            f"Unable to find a physical network with Public traffic in zone {zone.uuid}: "
            "addTrafficType traffictype=Public first"
        )
    network = models.Network(
        traffic_type="Public",
        broadcast_domain_type="Vlan",
        mode="Static",
        network_offering_id=offering.id,
        physical_network_id=carrier.id,
        data_center_id=zone.id,
        guru_name=PUBLIC_GURU,
        state="Setup",
        account_id=SYSTEM_ACCOUNT_ID,
        domain_id=ROOT_DOMAIN_ID,
        acl_type=None,
    )
    session.add(network)
    session.flush()
    network.related = network.id
    session.add(models.OpNetwork(id=network.id))
    session.flush()
    return network


@dataclass(frozen=True)
class Filter:
    """What listPublicIpAddresses asked for."""

    uuid: str | None = None
    address: str | None = None
    zone_id: int | None = None
    vlan_id: int | None = None
    associated_network_id: int | None = None
    physical_network_id: int | None = None
    allocated_only: bool = True
    state: str | None = None
    for_virtual_network: bool | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: Filter, page: query.Page
) -> tuple[Sequence[models.UserIpAddress], int]:
    """Addresses of public (VirtualNetwork) ranges: the caller's allocated ones; a root admin
    sees all of them, free ones too with ``allocatedonly=false``."""
    addr = models.UserIpAddress
    public = sa.select(models.Vlan.id).where(
        models.Vlan.vlan_type == ranges.VlanType.VirtualNetwork.value
    )
    statement = sa.select(addr).where(
        addr.removed.is_(None),
        addr.vlan_db_id.in_(public),
        *query.equal_to_given(
            (addr.uuid, wanted.uuid),
            (addr.public_ip_address, wanted.address),
            (addr.data_center_id, wanted.zone_id),
            (addr.vlan_db_id, wanted.vlan_id),
            (addr.network_id, wanted.associated_network_id),
            (addr.physical_network_id, wanted.physical_network_id),
        ),
        *query.named_as_given((addr.state, wanted.state)),
    )
    if wanted.for_virtual_network is False:
        statement = statement.where(sa.false())
    if wanted.allocated_only or not caller.is_root_admin:
        statement = statement.where(addr.allocated.is_not(None))
    if not caller.is_root_admin:
        statement = statement.where(addr.account_id == caller.account_id)
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(addr.public_ip_address, wanted.keyword))
    found, total = query.paged(session, statement.order_by(addr.id), page)
    return list(found), total
