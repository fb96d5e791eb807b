"""Guest NIC MAC addresses: ``02:00:<network id, 16 bits>:<sequence, 16 bits>``.

The sequence is the network's ``op_networks.mac_address_seq``, taken by one UPDATE (which
holds the row until commit, so two allocations on one network take turns) and read back. The
network id in the middle makes MACs of different networks differ too (CloudStack's
``mac.identifier`` form with identifier 0); the unique key over a network's live NICs
(``uq_nics_network_id_live_mac``) is the last word.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import network as models

LAST_SEQUENCE = 0xFFFF


def format_mac(network_id: int, sequence: int) -> str:
    """The MAC of ``sequence`` on network ``network_id``."""
    octets = (0x02, 0x00, (network_id >> 8) & 0xFF, network_id & 0xFF,
              (sequence >> 8) & 0xFF, sequence & 0xFF)  # fmt: skip
    return ":".join(f"{octet:02x}" for octet in octets)


def next_mac(session: Session, network: models.Network) -> str:
    """Take the network's next MAC; InsufficientCapacity once its 65535 are used."""
    op = models.OpNetwork
    session.execute(
        sa.update(op)
        .where(op.id == network.id)
        .values(mac_address_seq=op.mac_address_seq + 1)
        .execution_options(synchronize_session=False)
    )
    taken = session.scalar(
        sa.select(op.mac_address_seq)
        .where(op.id == network.id)
        .execution_options(populate_existing=True)
    )
    if taken is None:
        raise errors.InvalidParameterValue(f"Network {network.uuid} has no MAC sequence")
    sequence = int(taken) - 1
    if sequence > LAST_SEQUENCE:
        raise errors.InsufficientCapacity(
            f"Insufficient address capacity: network {network.uuid} has used all its MAC addresses"
        )
    return format_mac(network.id, sequence)
