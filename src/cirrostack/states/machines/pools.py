"""StoragePoolStatus (``storage_pool.status``) as a machine.

CloudStack has the enum only: its lifecycle code writes the status with a read-modify-write
(schema reference §3.11). cirrostack moves it through the gate like every state column, with
events named for the operations that move it, so a concurrent enable and maintenance request
cannot both win. ``Removed`` is never stored: deleteStoragePool soft-deletes the row (uuid
NULLed, ``removed`` set) and leaves the status, as CloudStack's default helper does.
"""

from __future__ import annotations

import enum

from cirrostack.states import machine


class StoragePoolStatus(enum.StrEnum):
    """``storage_pool.status`` (CloudStack's StoragePoolStatus names)."""

    Initial = "Initial"
    Initialized = "Initialized"
    Creating = "Creating"
    Attaching = "Attaching"
    Up = "Up"
    PrepareForMaintenance = "PrepareForMaintenance"
    ErrorInMaintenance = "ErrorInMaintenance"
    CancelMaintenance = "CancelMaintenance"
    Maintenance = "Maintenance"
    Disabled = "Disabled"
    Removed = "Removed"


class StoragePoolEvent(enum.StrEnum):
    """What moves a pool (cirrostack's names: CloudStack has no pool events)."""

    Attached = "Attached"
    Disable = "Disable"
    Enable = "Enable"
    AskMaintenance = "AskMaintenance"
    EnteredMaintenance = "EnteredMaintenance"
    MaintenanceFailed = "MaintenanceFailed"
    CancelMaintenance = "CancelMaintenance"
    MaintenanceCancelled = "MaintenanceCancelled"


_P = StoragePoolStatus
_PE = StoragePoolEvent

_ROWS: list[tuple[StoragePoolStatus, StoragePoolEvent | tuple[StoragePoolEvent, ...], _P]] = [
    # createStoragePool records the pool Initialized; the first host connected makes it Up.
    (_P.Initialized, _PE.Attached, _P.Up),
    (_P.Up, _PE.Attached, _P.Up),
    (_P.Disabled, _PE.Attached, _P.Disabled),
    (_P.Up, _PE.Disable, _P.Disabled),
    (_P.Disabled, _PE.Disable, _P.Disabled),
    (_P.Disabled, _PE.Enable, _P.Up),
    (_P.Up, _PE.Enable, _P.Up),
    (_P.Up, _PE.AskMaintenance, _P.PrepareForMaintenance),
    (_P.Disabled, _PE.AskMaintenance, _P.PrepareForMaintenance),
    (_P.ErrorInMaintenance, _PE.AskMaintenance, _P.PrepareForMaintenance),
    (_P.PrepareForMaintenance, _PE.EnteredMaintenance, _P.Maintenance),
    (_P.PrepareForMaintenance, _PE.MaintenanceFailed, _P.ErrorInMaintenance),
    (_P.Maintenance, _PE.CancelMaintenance, _P.CancelMaintenance),
    (_P.ErrorInMaintenance, _PE.CancelMaintenance, _P.CancelMaintenance),
    (_P.CancelMaintenance, _PE.MaintenanceCancelled, _P.Up),
    (_P.CancelMaintenance, _PE.MaintenanceFailed, _P.ErrorInMaintenance),
]

STORAGE_POOL_STATUS: machine.Machine[StoragePoolStatus, StoragePoolEvent] = machine.Machine(
    name="StoragePoolStatus",
    states=StoragePoolStatus,
    events=StoragePoolEvent,
    transitions=machine.table(_ROWS),
    initial=StoragePoolStatus.Initialized,
    # The maintenance jobs hold these; a dead job's pool is rolled back by the reaper's rules.
    transitional=frozenset({_P.PrepareForMaintenance, _P.CancelMaintenance}),
    unreachable={
        _P.Initial: "the model's column default; createStoragePool inserts Initialized",
        _P.Creating: "CloudStack's managed-storage drivers' state; no such driver here",
        _P.Attaching: "CloudStack's managed-storage drivers' state; no such driver here",
        _P.Removed: "a deleted pool is soft-deleted with its status left as it was",
    },
)
