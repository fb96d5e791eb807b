"""The VirtualMachine machine (``vm_instance.state``) as CloudStack defines it, ≥4.20 Restoring too.

Differences from CloudStack are in the comments beside the table and in docs/state-machines.md.
"""

from __future__ import annotations

import enum

from cirrostack.states import machine


class VmState(enum.StrEnum):
    """``vm_instance.state``."""

    Starting = "Starting"
    Running = "Running"
    Stopping = "Stopping"
    Stopped = "Stopped"
    Destroyed = "Destroyed"
    Expunging = "Expunging"
    Migrating = "Migrating"
    Error = "Error"
    Unknown = "Unknown"
    Shutdown = "Shutdown"
    Restoring = "Restoring"


class VmEvent(enum.StrEnum):
    """VirtualMachine.Event; CreateRequested, RevertRequested and SnapshotRequested have no rows."""

    CreateRequested = "CreateRequested"
    StartRequested = "StartRequested"
    StopRequested = "StopRequested"
    DestroyRequested = "DestroyRequested"
    RecoveryRequested = "RecoveryRequested"
    AgentReportStopped = "AgentReportStopped"
    AgentReportRunning = "AgentReportRunning"
    MigrationRequested = "MigrationRequested"
    StorageMigrationRequested = "StorageMigrationRequested"
    ExpungeOperation = "ExpungeOperation"
    OperationSucceeded = "OperationSucceeded"
    OperationFailed = "OperationFailed"
    OperationFailedToError = "OperationFailedToError"
    OperationRetry = "OperationRetry"
    AgentReportShutdowned = "AgentReportShutdowned"
    AgentReportMigrated = "AgentReportMigrated"
    RevertRequested = "RevertRequested"
    SnapshotRequested = "SnapshotRequested"
    FollowAgentPowerOnReport = "FollowAgentPowerOnReport"
    FollowAgentPowerOffReport = "FollowAgentPowerOffReport"
    RestoringRequested = "RestoringRequested"
    RestoringSuccess = "RestoringSuccess"
    RestoringFailed = "RestoringFailed"


_S = VmState
_E = VmEvent

# Row for row CloudStack's VirtualMachine.State FSM (reference §3.1), plus ≥4.20 Restoring.
_ROWS: list[tuple[VmState, VmEvent | tuple[VmEvent, ...], VmState]] = [
    (_S.Stopped, _E.StartRequested, _S.Starting),
    (_S.Stopped, _E.DestroyRequested, _S.Destroyed),
    (_S.Stopped, _E.StopRequested, _S.Stopped),
    (_S.Stopped, _E.AgentReportStopped, _S.Stopped),
    # Error is entered only from here: a failed deploy (CloudStack's own warning).
    (_S.Stopped, _E.OperationFailedToError, _S.Error),
    (_S.Stopped, _E.OperationFailed, _S.Stopped),
    (_S.Stopped, _E.ExpungeOperation, _S.Expunging),
    (_S.Stopped, _E.AgentReportShutdowned, _S.Stopped),
    (_S.Stopped, _E.StorageMigrationRequested, _S.Migrating),
    (_S.Stopped, _E.FollowAgentPowerOnReport, _S.Running),
    (_S.Stopped, _E.FollowAgentPowerOffReport, _S.Stopped),
    (_S.Stopped, _E.RestoringRequested, _S.Restoring),
    (_S.Starting, _E.OperationRetry, _S.Starting),
    (_S.Starting, _E.OperationSucceeded, _S.Running),
    (_S.Starting, _E.OperationFailed, _S.Stopped),
    (_S.Starting, _E.AgentReportRunning, _S.Running),
    (_S.Starting, _E.AgentReportStopped, _S.Stopped),
    (_S.Starting, _E.AgentReportShutdowned, _S.Stopped),
    (_S.Starting, _E.FollowAgentPowerOnReport, _S.Running),
    (_S.Starting, _E.FollowAgentPowerOffReport, _S.Stopped),
    (_S.Running, _E.MigrationRequested, _S.Migrating),
    (_S.Running, _E.AgentReportRunning, _S.Running),
    (_S.Running, _E.AgentReportStopped, _S.Stopped),
    (_S.Running, _E.StopRequested, _S.Stopping),
    (_S.Running, _E.AgentReportShutdowned, _S.Stopped),
    (_S.Running, _E.AgentReportMigrated, _S.Running),
    (_S.Running, _E.OperationSucceeded, _S.Running),
    (_S.Running, _E.FollowAgentPowerOnReport, _S.Running),
    (_S.Running, _E.FollowAgentPowerOffReport, _S.Stopped),
    (_S.Migrating, _E.MigrationRequested, _S.Migrating),
    (_S.Migrating, _E.OperationSucceeded, _S.Running),
    (_S.Migrating, _E.OperationFailed, _S.Running),
    (_S.Migrating, _E.AgentReportRunning, _S.Running),
    (_S.Migrating, _E.AgentReportStopped, _S.Stopped),
    (_S.Migrating, _E.AgentReportShutdowned, _S.Stopped),
    (_S.Migrating, _E.FollowAgentPowerOnReport, _S.Running),
    (_S.Migrating, _E.FollowAgentPowerOffReport, _S.Stopped),
    (_S.Stopping, _E.OperationSucceeded, _S.Stopped),
    (_S.Stopping, _E.OperationFailed, _S.Running),
    (_S.Stopping, _E.AgentReportRunning, _S.Running),
    (_S.Stopping, _E.AgentReportStopped, _S.Stopped),
    (_S.Stopping, _E.StopRequested, _S.Stopping),
    (_S.Stopping, _E.AgentReportShutdowned, _S.Stopped),
    (_S.Stopping, _E.FollowAgentPowerOnReport, _S.Running),
    (_S.Stopping, _E.FollowAgentPowerOffReport, _S.Stopped),
    (_S.Destroyed, _E.RecoveryRequested, _S.Stopped),
    (_S.Destroyed, _E.ExpungeOperation, _S.Expunging),
    (_S.Destroyed, _E.RestoringRequested, _S.Restoring),
    (_S.Expunging, _E.OperationFailed, _S.Expunging),
    (_S.Expunging, _E.ExpungeOperation, _S.Expunging),
    (_S.Expunging, _E.RestoringRequested, _S.Restoring),
    # Error skips Destroyed: destroying a failed deploy expunges it.
    (_S.Error, _E.DestroyRequested, _S.Expunging),
    (_S.Error, _E.ExpungeOperation, _S.Expunging),
    (_S.Restoring, (_E.RestoringSuccess, _E.RestoringFailed), _S.Stopped),
]

VM: machine.Machine[VmState, VmEvent] = machine.Machine(
    name="VirtualMachine",
    states=VmState,
    events=VmEvent,
    transitions=machine.table(_ROWS),
    initial=VmState.Stopped,
    transitional=frozenset({_S.Starting, _S.Stopping, _S.Expunging, _S.Migrating, _S.Restoring}),
    unreachable={
        _S.Unknown: "legacy value, no transition leads to it; kept so old rows parse",
        _S.Shutdown: "legacy value, no transition leads to it; kept so old rows parse",
    },
    usage=frozenset(
        {
            (_S.Stopped, _E.DestroyRequested),
            (_S.Stopped, _E.OperationFailedToError),
            (_S.Stopped, _E.ExpungeOperation),
            (_S.Stopped, _E.FollowAgentPowerOnReport),
            (_S.Starting, _E.OperationSucceeded),
            (_S.Starting, _E.AgentReportRunning),
            (_S.Starting, _E.FollowAgentPowerOnReport),
            (_S.Running, _E.AgentReportStopped),
            (_S.Running, _E.AgentReportShutdowned),
            (_S.Running, _E.FollowAgentPowerOffReport),
            (_S.Stopping, _E.OperationSucceeded),
            (_S.Stopping, _E.AgentReportStopped),
            (_S.Stopping, _E.AgentReportShutdowned),
            (_S.Stopping, _E.FollowAgentPowerOffReport),
            (_S.Destroyed, _E.RecoveryRequested),
        }
    ),
)
