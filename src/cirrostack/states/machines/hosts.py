"""The two machines of a host row: agent connection (``host.status``) and administration
(``host.resource_state``), as CloudStack defines them.

CloudStack also accepts a NULL state in both tables ((null) -AgentConnected-> Connecting and
(null) -InternalCreated-> Enabled). cirrostack leaves those rows out: both columns are NOT NULL
and a new host row is inserted Creating/Creating (as CloudStack's HostVO does), and Creating has
the very same transitions, so a NULL would add nothing but a state that cannot be stored.
"""

from __future__ import annotations

import enum

from cirrostack.states import machine


class HostStatus(enum.StrEnum):
    """``host.status``: the agent connection."""

    Creating = "Creating"
    Connecting = "Connecting"
    Up = "Up"
    Down = "Down"
    Disconnected = "Disconnected"
    Alert = "Alert"
    Removed = "Removed"
    Error = "Error"
    Rebalancing = "Rebalancing"
    Unknown = "Unknown"


class HostStatusEvent(enum.StrEnum):
    """Status.Event; RequestAgentRebalance has no rows."""

    AgentConnected = "AgentConnected"
    PingTimeout = "PingTimeout"
    ShutdownRequested = "ShutdownRequested"
    AgentDisconnected = "AgentDisconnected"
    HostDown = "HostDown"
    Ping = "Ping"
    ManagementServerDown = "ManagementServerDown"
    WaitedTooLong = "WaitedTooLong"
    Remove = "Remove"
    Ready = "Ready"
    RequestAgentRebalance = "RequestAgentRebalance"
    StartAgentRebalance = "StartAgentRebalance"
    RebalanceCompleted = "RebalanceCompleted"
    RebalanceFailed = "RebalanceFailed"
    Error = "Error"


_H = HostStatus
_HE = HostStatusEvent

# Row for row CloudStack's Status FSM (reference §3.9), without the (null) row (see above).
_STATUS_ROWS: list[tuple[HostStatus, HostStatusEvent | tuple[HostStatusEvent, ...], HostStatus]] = [
    (_H.Creating, _HE.AgentConnected, _H.Connecting),
    (_H.Creating, _HE.Error, _H.Error),
    (_H.Connecting, _HE.AgentConnected, _H.Connecting),
    (_H.Connecting, _HE.Ready, _H.Up),
    (_H.Connecting, _HE.PingTimeout, _H.Alert),
    (_H.Connecting, _HE.ShutdownRequested, _H.Disconnected),
    (_H.Connecting, _HE.HostDown, _H.Down),
    (_H.Connecting, _HE.Ping, _H.Connecting),
    (_H.Connecting, _HE.ManagementServerDown, _H.Disconnected),
    (_H.Connecting, _HE.AgentDisconnected, _H.Alert),
    (_H.Up, _HE.PingTimeout, _H.Alert),
    (_H.Up, _HE.AgentDisconnected, _H.Alert),
    (_H.Up, _HE.ShutdownRequested, _H.Disconnected),
    (_H.Up, _HE.HostDown, _H.Down),
    (_H.Up, _HE.Ping, _H.Up),
    (_H.Up, _HE.AgentConnected, _H.Connecting),
    (_H.Up, _HE.ManagementServerDown, _H.Disconnected),
    (_H.Up, _HE.StartAgentRebalance, _H.Rebalancing),
    (_H.Up, _HE.Remove, _H.Removed),
    (_H.Disconnected, _HE.ShutdownRequested, _H.Disconnected),
    (_H.Disconnected, _HE.PingTimeout, _H.Alert),
    (_H.Disconnected, _HE.AgentConnected, _H.Connecting),
    (_H.Disconnected, _HE.Ping, _H.Up),
    (_H.Disconnected, _HE.HostDown, _H.Down),
    (_H.Disconnected, _HE.ManagementServerDown, _H.Disconnected),
    (_H.Disconnected, _HE.WaitedTooLong, _H.Alert),
    (_H.Disconnected, _HE.Remove, _H.Removed),
    (_H.Disconnected, _HE.AgentDisconnected, _H.Disconnected),
    (_H.Down, _HE.AgentConnected, _H.Connecting),
    (_H.Down, _HE.Remove, _H.Removed),
    (
        _H.Down,
        (_HE.ManagementServerDown, _HE.AgentDisconnected, _HE.PingTimeout, _HE.HostDown),
        _H.Down,
    ),
    (_H.Alert, _HE.AgentConnected, _H.Connecting),
    (_H.Alert, _HE.Ping, _H.Up),
    (_H.Alert, _HE.Remove, _H.Removed),
    (_H.Alert, _HE.ManagementServerDown, _H.Alert),
    (_H.Alert, _HE.AgentDisconnected, _H.Alert),
    (_H.Alert, _HE.ShutdownRequested, _H.Disconnected),
    (_H.Alert, _HE.HostDown, _H.Down),
    (_H.Rebalancing, _HE.RebalanceFailed, _H.Disconnected),
    (_H.Rebalancing, _HE.RebalanceCompleted, _H.Connecting),
    (_H.Rebalancing, _HE.ManagementServerDown, _H.Disconnected),
    (_H.Rebalancing, _HE.AgentConnected, _H.Connecting),
    (_H.Rebalancing, _HE.AgentDisconnected, _H.Rebalancing),
    (_H.Error, _HE.AgentConnected, _H.Connecting),
]

HOST_STATUS: machine.Machine[HostStatus, HostStatusEvent] = machine.Machine(
    name="HostStatus",
    states=HostStatus,
    events=HostStatusEvent,
    transitions=machine.table(_STATUS_ROWS),
    initial=HostStatus.Creating,
    # Short-lived handshakes; the agent manager, not a job, finishes or times them out.
    transitional=frozenset({_H.Creating, _H.Connecting, _H.Rebalancing}),
    unreachable={_H.Unknown: "CloudStack's stand-in for a NULL status; never stored"},
)


class ResourceState(enum.StrEnum):
    """``host.resource_state``: what the administrator allows."""

    Creating = "Creating"
    Enabled = "Enabled"
    Disabled = "Disabled"
    ErrorInPrepareForMaintenance = "ErrorInPrepareForMaintenance"
    PrepareForMaintenance = "PrepareForMaintenance"
    ErrorInMaintenance = "ErrorInMaintenance"
    Maintenance = "Maintenance"
    Error = "Error"
    Degraded = "Degraded"


class ResourceStateEvent(enum.StrEnum):
    """ResourceState.Event; UpdatePassword and Unmanaged change no state and have no rows."""

    InternalCreated = "InternalCreated"
    Enable = "Enable"
    Disable = "Disable"
    AdminAskMaintenance = "AdminAskMaintenance"
    AdminCancelMaintenance = "AdminCancelMaintenance"
    InternalEnterMaintenance = "InternalEnterMaintenance"
    UpdatePassword = "UpdatePassword"
    UnableToMigrate = "UnableToMigrate"
    UnableToMaintain = "UnableToMaintain"
    ErrorsCorrected = "ErrorsCorrected"
    Error = "Error"
    DeleteHost = "DeleteHost"
    DeclareHostDegraded = "DeclareHostDegraded"
    EnableDegradedHost = "EnableDegradedHost"
    Unmanaged = "Unmanaged"


_R = ResourceState
_RE = ResourceStateEvent

# Row for row CloudStack's ResourceState FSM (reference §3.10), without the (null) row.
_RESOURCE_ROWS: list[tuple[ResourceState, ResourceStateEvent, ResourceState]] = [
    (_R.Creating, _RE.InternalCreated, _R.Enabled),
    (_R.Creating, _RE.Error, _R.Error),
    (_R.Enabled, _RE.Enable, _R.Enabled),
    (_R.Enabled, _RE.InternalCreated, _R.Enabled),
    (_R.Enabled, _RE.Disable, _R.Disabled),
    (_R.Enabled, _RE.AdminAskMaintenance, _R.PrepareForMaintenance),
    (_R.Enabled, _RE.DeclareHostDegraded, _R.Degraded),
    (_R.Enabled, _RE.InternalEnterMaintenance, _R.Maintenance),
    (_R.Disabled, _RE.Enable, _R.Enabled),
    (_R.Disabled, _RE.Disable, _R.Disabled),
    (_R.Disabled, _RE.InternalCreated, _R.Disabled),
    (_R.Disabled, _RE.DeclareHostDegraded, _R.Degraded),
    (_R.Disabled, _RE.DeleteHost, _R.Disabled),
    (_R.PrepareForMaintenance, _RE.InternalEnterMaintenance, _R.Maintenance),
    (_R.PrepareForMaintenance, _RE.AdminCancelMaintenance, _R.Enabled),
    (_R.PrepareForMaintenance, _RE.UnableToMigrate, _R.ErrorInPrepareForMaintenance),
    (_R.PrepareForMaintenance, _RE.UnableToMaintain, _R.ErrorInMaintenance),
    (_R.PrepareForMaintenance, _RE.InternalCreated, _R.PrepareForMaintenance),
    (_R.Maintenance, _RE.AdminCancelMaintenance, _R.Enabled),
    (_R.Maintenance, _RE.InternalCreated, _R.Maintenance),
    (_R.Maintenance, _RE.DeleteHost, _R.Disabled),
    (_R.Maintenance, _RE.DeclareHostDegraded, _R.Degraded),
    (_R.ErrorInPrepareForMaintenance, _RE.InternalCreated, _R.ErrorInPrepareForMaintenance),
    (_R.ErrorInPrepareForMaintenance, _RE.Disable, _R.Disabled),
    (_R.ErrorInPrepareForMaintenance, _RE.DeleteHost, _R.Disabled),
    (_R.ErrorInPrepareForMaintenance, _RE.InternalEnterMaintenance, _R.Maintenance),
    (_R.ErrorInPrepareForMaintenance, _RE.AdminCancelMaintenance, _R.Enabled),
    (_R.ErrorInPrepareForMaintenance, _RE.UnableToMigrate, _R.ErrorInPrepareForMaintenance),
    (_R.ErrorInPrepareForMaintenance, _RE.UnableToMaintain, _R.ErrorInMaintenance),
    (_R.ErrorInPrepareForMaintenance, _RE.ErrorsCorrected, _R.PrepareForMaintenance),
    (_R.ErrorInMaintenance, _RE.InternalCreated, _R.ErrorInMaintenance),
    (_R.ErrorInMaintenance, _RE.AdminAskMaintenance, _R.PrepareForMaintenance),
    (_R.ErrorInMaintenance, _RE.Disable, _R.Disabled),
    (_R.ErrorInMaintenance, _RE.DeleteHost, _R.Disabled),
    (_R.ErrorInMaintenance, _RE.AdminCancelMaintenance, _R.Enabled),
    (_R.Error, _RE.InternalCreated, _R.Error),
    (_R.Degraded, _RE.DeleteHost, _R.Disabled),
    (_R.Degraded, _RE.EnableDegradedHost, _R.Enabled),
    (_R.Degraded, _RE.AdminAskMaintenance, _R.Maintenance),
]

HOST_RESOURCE_STATE: machine.Machine[ResourceState, ResourceStateEvent] = machine.Machine(
    name="HostResourceState",
    states=ResourceState,
    events=ResourceStateEvent,
    transitions=machine.table(_RESOURCE_ROWS),
    initial=ResourceState.Creating,
    # PrepareForMaintenance: VMs are being migrated off; the maintenance job ends it.
    transitional=frozenset({_R.Creating, _R.PrepareForMaintenance}),
)
