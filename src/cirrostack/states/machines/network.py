"""The Network machine (``networks.state``), as CloudStack defines it."""

from __future__ import annotations

import enum

from cirrostack.states import machine


class NetworkState(enum.StrEnum):
    """``networks.state``."""

    Allocated = "Allocated"
    Setup = "Setup"
    Implementing = "Implementing"
    Implemented = "Implemented"
    Shutdown = "Shutdown"
    Destroy = "Destroy"


class NetworkEvent(enum.StrEnum):
    """Network.Event."""

    ImplementNetwork = "ImplementNetwork"
    DestroyNetwork = "DestroyNetwork"
    OperationSucceeded = "OperationSucceeded"
    OperationFailed = "OperationFailed"


_N = NetworkState
_E = NetworkEvent

# Row for row CloudStack's Network.State FSM (reference §3.6).
_ROWS: list[tuple[NetworkState, NetworkEvent, NetworkState]] = [
    (_N.Allocated, _E.ImplementNetwork, _N.Implementing),
    (_N.Implementing, _E.OperationSucceeded, _N.Implemented),
    (_N.Implementing, _E.OperationFailed, _N.Shutdown),
    (_N.Implemented, _E.DestroyNetwork, _N.Shutdown),
    (_N.Shutdown, _E.OperationSucceeded, _N.Allocated),
    (_N.Shutdown, _E.OperationFailed, _N.Shutdown),
    (_N.Setup, _E.DestroyNetwork, _N.Destroy),
    (_N.Allocated, _E.DestroyNetwork, _N.Destroy),
]

NETWORK: machine.Machine[NetworkState, NetworkEvent] = machine.Machine(
    name="Network",
    states=NetworkState,
    events=NetworkEvent,
    transitions=machine.table(_ROWS),
    # Isolated guest networks start Allocated and are implemented lazily; shared networks in a
    # Basic zone are designed directly in Setup.
    initial=NetworkState.Allocated,
    entry=frozenset({NetworkState.Setup}),
    # CloudStack describes Shutdown as "being destroyed": its exits finish or retry the shutdown.
    transitional=frozenset({_N.Implementing, _N.Shutdown}),
)
