"""A VM's NICs: the one seam between VMs and the network slice (``network.nics``).

Until guest networking lands a VM has no NICs: it deploys and starts without any, and lists
``nic: []`` (libcloud needs the key, not entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.protocol import compute as protocol


def items_of(session: Session, vm_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The CloudStack ``nic`` objects of each VM, in a fixed number of queries."""
    return {}


def transfer_objects(session: Session, vm_id: int) -> tuple[protocol.NicTO, ...]:
    """The VM's NICs for StartCommand, by device id."""
    return ()
