"""Implementing a guest network (Allocated → Implementing → Implemented) and shutting it down.

CloudStack implements an isolated or L2 network at its first VM start: the guru takes a guest
VLAN from the physical network's range (``op_dc_vnet_alloc``, event ZONE.VLAN.ASSIGN) and the
providers start their elements (the virtual router). cirrostack has no elements to start, so
implementing is the VLAN alone. A network created in Setup (a given VLAN) needs nothing.

The VLAN is claimed under the physical network row's lock by inserting its
``op_dc_vnet_alloc`` row in a savepoint; the unique key (vnet, physical network, zone) stands
behind the lock (a row taken meanwhile makes the claim try the next). Shutting down releases
it unless the offering gave the VLAN.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import base
from cirrostack.db.models import network as models
from cirrostack.db.models import physical_network as physical_models
from cirrostack.states import gate
from cirrostack.states.machines import network as machine

VNET_KEY = "uq_op_dc_vnet_alloc_vnet_physical_network_id_data_center_id"


def implement(session: Session, network: models.Network, actor: gate.ActorLike) -> None:
    """Make ``network`` usable by a starting VM: Allocated networks get a VLAN (if they have
    none) and become Implemented; Setup and Implemented ones are left as they are."""
    if network.state != machine.NetworkState.Allocated.value:
        return
    # The physical network first, before any row of ``networks``: implements on one physical
    # network then take turns from their start (on MariaDB two state updates of ``networks``
    # can otherwise deadlock on the state index's gaps while one waits for the other).
    carrier = _locked_carrier(session, network) if network.broadcast_uri is None else None
    gate.transition(session, network, machine.NetworkEvent.ImplementNetwork, actor=actor)
    values: dict[str, object] = {}
    if carrier is not None:
        values["broadcast_uri"] = f"vlan://{_claim_vnet(session, network, carrier)}"
    gate.transition(
        session, network, machine.NetworkEvent.OperationSucceeded, actor=actor, values=values
    )


def shutdown(session: Session, network: models.Network, actor: gate.ActorLike) -> None:
    """Implemented → Shutdown → Allocated, releasing the VLAN the network was given."""
    if network.state != machine.NetworkState.Implemented.value:
        return
    gate.transition(session, network, machine.NetworkEvent.DestroyNetwork, actor=actor)
    offering = session.get_one(models.NetworkOffering, network.network_offering_id)
    values: dict[str, object] = {}
    if not offering.specify_vlan and network.broadcast_uri is not None:
        _release_vnet(session, network)
        values["broadcast_uri"] = None
    gate.transition(
        session, network, machine.NetworkEvent.OperationSucceeded, actor=actor, values=values
    )


def _vnets(ranges: str | None) -> Iterator[int]:
    for part in (ranges or "").split(","):
        if not part.strip():
            continue
        low, _, high = part.partition("-")
        yield from range(int(low), int(high or low) + 1)


def _locked_carrier(session: Session, network: models.Network) -> physical_models.PhysicalNetwork:
    return session.scalars(
        sa.select(physical_models.PhysicalNetwork)
        .where(physical_models.PhysicalNetwork.id == network.physical_network_id)
        .with_for_update()
    ).one()


def _claim_vnet(
    session: Session, network: models.Network, carrier: physical_models.PhysicalNetwork
) -> str:
    # Under the physical network's lock; the taken VLANs come from a locking read (the latest
    # committed rows, not MariaDB's snapshot).
    alloc = physical_models.VnetAllocation
    taken = set(
        session.scalars(
            sa.select(alloc.vnet)
            .where(alloc.physical_network_id == carrier.id)
            .with_for_update(read=True)
        )
    )
    for vnet in (str(v) for v in _vnets(carrier.vnet)):
        if vnet in taken:
            continue
        try:
            with session.begin_nested():
                session.add(
                    alloc(
                        vnet=vnet,
                        physical_network_id=carrier.id,
                        data_center_id=network.data_center_id,
                        reservation_id=network.uuid,
                        account_id=network.account_id,
                        taken=base.utcnow(),
                    )
                )
                session.flush()
        except sa.exc.IntegrityError:
            continue
        return vnet
    raise errors.InsufficientCapacity(
        f"Unable to implement network {network.uuid}: no free guest VLAN left in physical "
        f"network {carrier.uuid} (range {carrier.vnet or 'none'})"
    )


def _release_vnet(session: Session, network: models.Network) -> None:
    alloc = physical_models.VnetAllocation
    session.execute(
        sa.delete(alloc).where(
            alloc.physical_network_id == network.physical_network_id,
            alloc.reservation_id == network.uuid,
        )
    )
