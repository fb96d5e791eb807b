"""Storage machines: Volume (``volumes.state``), Snapshot (``snapshots.status``), ObjectInDataStore
(``template_store_ref``, ``volume_store_ref``, ``snapshot_store_ref``, ``template_spool_ref``) and
Template (``vm_template.state``), as CloudStack defines them (with ≥4.20 volume Restoring).

Note CloudStack's spellings, kept because they are stored or logged: the volume's destroyed
state is ``Destroy``; the store-copy success event is ``OperationSuccessed``.
"""

from __future__ import annotations

import enum

from cirrostack.states import machine


class VolumeState(enum.StrEnum):
    """``volumes.state``."""

    Allocated = "Allocated"
    Creating = "Creating"
    Ready = "Ready"
    Migrating = "Migrating"
    Snapshotting = "Snapshotting"
    RevertSnapshotting = "RevertSnapshotting"
    Resizing = "Resizing"
    Expunging = "Expunging"
    Expunged = "Expunged"
    Destroy = "Destroy"
    Destroying = "Destroying"
    UploadOp = "UploadOp"
    Copying = "Copying"
    Uploaded = "Uploaded"
    NotUploaded = "NotUploaded"
    UploadInProgress = "UploadInProgress"
    UploadError = "UploadError"
    UploadAbandoned = "UploadAbandoned"
    Attaching = "Attaching"
    Restoring = "Restoring"


class VolumeEvent(enum.StrEnum):
    """Volume.Event; CopySucceeded and CopyFailed have no rows."""

    CreateRequested = "CreateRequested"
    CopyRequested = "CopyRequested"
    CopySucceeded = "CopySucceeded"
    CopyFailed = "CopyFailed"
    OperationFailed = "OperationFailed"
    OperationSucceeded = "OperationSucceeded"
    OperationRetry = "OperationRetry"
    UploadRequested = "UploadRequested"
    MigrationRequested = "MigrationRequested"
    MigrationCopyRequested = "MigrationCopyRequested"
    MigrationCopySucceeded = "MigrationCopySucceeded"
    MigrationCopyFailed = "MigrationCopyFailed"
    SnapshotRequested = "SnapshotRequested"
    RevertSnapshotRequested = "RevertSnapshotRequested"
    DestroyRequested = "DestroyRequested"
    RecoverRequested = "RecoverRequested"
    ExpungingRequested = "ExpungingRequested"
    ResizeRequested = "ResizeRequested"
    AttachRequested = "AttachRequested"
    OperationTimeout = "OperationTimeout"
    OperationRetryFromError = "OperationRetryFromError"
    RestoreRequested = "RestoreRequested"
    RestoreSucceeded = "RestoreSucceeded"
    RestoreFailed = "RestoreFailed"


_V = VolumeState
_VE = VolumeEvent
_DONE = (_VE.OperationSucceeded, _VE.OperationFailed)

# Row for row CloudStack's Volume.State FSM (reference §3.2), plus ≥4.20 Restoring.
_VOLUME_ROWS: list[tuple[VolumeState, VolumeEvent | tuple[VolumeEvent, ...], VolumeState]] = [
    (_V.Allocated, _VE.CreateRequested, _V.Creating),
    (_V.Allocated, _VE.DestroyRequested, _V.Destroy),
    (_V.Allocated, _VE.OperationFailed, _V.Allocated),
    (_V.Allocated, _VE.OperationSucceeded, _V.Allocated),
    (_V.Allocated, _VE.UploadRequested, _V.UploadOp),
    (_V.Allocated, _VE.MigrationCopyRequested, _V.Creating),
    (_V.Creating, _VE.OperationRetry, _V.Creating),
    (_V.Creating, _VE.OperationFailed, _V.Allocated),
    (_V.Creating, _VE.OperationSucceeded, _V.Ready),
    (_V.Creating, _VE.DestroyRequested, _V.Destroy),
    (_V.Creating, _VE.CreateRequested, _V.Creating),
    (_V.Creating, _VE.MigrationCopyFailed, _V.Allocated),
    (_V.Creating, _VE.MigrationCopySucceeded, _V.Ready),
    (_V.Ready, _VE.CreateRequested, _V.Creating),
    (_V.Ready, _VE.ResizeRequested, _V.Resizing),
    (_V.Ready, _VE.OperationSucceeded, _V.Ready),
    (_V.Ready, _VE.OperationFailed, _V.Ready),
    (_V.Ready, _VE.DestroyRequested, _V.Destroy),
    (_V.Ready, _VE.SnapshotRequested, _V.Snapshotting),
    (_V.Ready, _VE.RevertSnapshotRequested, _V.RevertSnapshotting),
    (_V.Ready, _VE.MigrationRequested, _V.Migrating),
    (_V.Ready, _VE.AttachRequested, _V.Attaching),
    (_V.Ready, _VE.RestoreRequested, _V.Restoring),
    (_V.Resizing, _DONE, _V.Ready),
    (_V.Snapshotting, _DONE, _V.Ready),
    (_V.RevertSnapshotting, _DONE, _V.Ready),
    (_V.Migrating, _DONE, _V.Ready),
    (_V.Attaching, _DONE, _V.Ready),
    (_V.Uploaded, _VE.CopyRequested, _V.Copying),
    (_V.Uploaded, _VE.DestroyRequested, _V.Destroy),
    (_V.Copying, _VE.OperationSucceeded, _V.Ready),
    (_V.Copying, _VE.OperationFailed, _V.Uploaded),
    (_V.UploadOp, _VE.DestroyRequested, _V.Destroy),
    (_V.UploadOp, _VE.OperationSucceeded, _V.Uploaded),
    (_V.UploadOp, _VE.OperationFailed, _V.Allocated),
    (_V.NotUploaded, _VE.OperationTimeout, _V.UploadAbandoned),
    (_V.NotUploaded, _VE.UploadRequested, _V.UploadInProgress),
    (_V.NotUploaded, _VE.OperationSucceeded, _V.Uploaded),
    (_V.NotUploaded, _VE.OperationFailed, _V.UploadError),
    (_V.UploadInProgress, _VE.OperationSucceeded, _V.Uploaded),
    (_V.UploadInProgress, (_VE.OperationFailed, _VE.OperationTimeout), _V.UploadError),
    (_V.UploadError, _VE.DestroyRequested, _V.Destroy),
    (_V.UploadAbandoned, _VE.DestroyRequested, _V.Destroy),
    (_V.Destroy, _VE.ExpungingRequested, _V.Expunging),
    (_V.Destroy, _VE.OperationSucceeded, _V.Destroy),
    (_V.Destroy, _VE.OperationFailed, _V.Destroy),
    (_V.Destroy, _VE.RecoverRequested, _V.Ready),
    # Present in some 4.19/4.20 builds only; kept, it is harmless and lets an admin retry.
    (_V.Destroy, _VE.OperationRetryFromError, _V.Allocated),
    (_V.Destroy, _VE.RestoreRequested, _V.Restoring),
    (_V.Expunging, _VE.ExpungingRequested, _V.Expunging),
    (_V.Expunging, _VE.OperationSucceeded, _V.Expunged),
    (_V.Expunging, _VE.OperationFailed, _V.Destroy),
    (_V.Expunged, (_VE.ExpungingRequested, *_DONE), _V.Expunged),
    (_V.Expunged, _VE.RestoreRequested, _V.Restoring),
    (_V.Restoring, (_VE.RestoreSucceeded, _VE.RestoreFailed), _V.Ready),
]

VOLUME: machine.Machine[VolumeState, VolumeEvent] = machine.Machine(
    name="Volume",
    states=VolumeState,
    events=VolumeEvent,
    transitions=machine.table(_VOLUME_ROWS),
    initial=VolumeState.Allocated,
    entry=frozenset({VolumeState.NotUploaded}),
    # CloudStack has no transitional flag for volumes; these are the states whose name and
    # exits say "an operation is running" (see docs/state-machines.md).
    transitional=frozenset(
        {
            _V.Creating,
            _V.Migrating,
            _V.Snapshotting,
            _V.RevertSnapshotting,
            _V.Resizing,
            _V.Expunging,
            _V.Destroying,
            _V.UploadOp,
            _V.Copying,
            _V.UploadInProgress,
            _V.Attaching,
            _V.Restoring,
        }
    ),
    unreachable={_V.Destroying: "defined by CloudStack but used by no transition"},
    usage=frozenset(
        {
            (_V.Creating, _VE.MigrationCopySucceeded),
            (_V.Resizing, _VE.OperationSucceeded),
            (_V.Copying, _VE.OperationSucceeded),
            (_V.Destroy, _VE.OperationSucceeded),
            (_V.Destroy, _VE.OperationFailed),
        }
    ),
)


class SnapshotState(enum.StrEnum):
    """``snapshots.status`` (the column is named ``status``)."""

    Allocated = "Allocated"
    Creating = "Creating"
    CreatedOnPrimary = "CreatedOnPrimary"
    BackingUp = "BackingUp"
    BackedUp = "BackedUp"
    Copying = "Copying"
    Destroying = "Destroying"
    Destroyed = "Destroyed"
    Error = "Error"


class SnapshotEvent(enum.StrEnum):
    """Snapshot.Event; BackedupToSecondary has no rows."""

    CreateRequested = "CreateRequested"
    OperationNotPerformed = "OperationNotPerformed"
    BackupToSecondary = "BackupToSecondary"
    BackedupToSecondary = "BackedupToSecondary"
    DestroyRequested = "DestroyRequested"
    CopyingRequested = "CopyingRequested"
    OperationSucceeded = "OperationSucceeded"
    OperationFailed = "OperationFailed"


_SN = SnapshotState
_SE = SnapshotEvent

# Row for row CloudStack's Snapshot FSM (reference §3.3).
_SNAPSHOT_ROWS: list[
    tuple[SnapshotState, SnapshotEvent | tuple[SnapshotEvent, ...], SnapshotState]
] = [
    (_SN.Allocated, _SE.CreateRequested, _SN.Creating),
    (_SN.Creating, _SE.OperationSucceeded, _SN.CreatedOnPrimary),
    (_SN.Creating, _SE.OperationNotPerformed, _SN.BackedUp),
    (_SN.Creating, _SE.OperationFailed, _SN.Error),
    (_SN.CreatedOnPrimary, _SE.BackupToSecondary, _SN.BackingUp),
    # Backup to secondary skipped: BackedUp is the "usable" state even for primary-only copies.
    (_SN.CreatedOnPrimary, _SE.OperationNotPerformed, _SN.BackedUp),
    (_SN.BackingUp, _SE.OperationSucceeded, _SN.BackedUp),
    (_SN.BackingUp, _SE.OperationFailed, _SN.CreatedOnPrimary),
    (_SN.BackedUp, _SE.DestroyRequested, _SN.Destroying),
    (_SN.BackedUp, _SE.CopyingRequested, _SN.Copying),
    (_SN.Copying, (_SE.OperationSucceeded, _SE.OperationFailed), _SN.BackedUp),
    (_SN.Destroying, _SE.OperationSucceeded, _SN.Destroyed),
    (_SN.Destroying, _SE.OperationFailed, _SN.BackedUp),
]

SNAPSHOT: machine.Machine[SnapshotState, SnapshotEvent] = machine.Machine(
    name="Snapshot",
    states=SnapshotState,
    events=SnapshotEvent,
    transitions=machine.table(_SNAPSHOT_ROWS),
    initial=SnapshotState.Allocated,
    transitional=frozenset({_SN.Creating, _SN.BackingUp, _SN.Copying, _SN.Destroying}),
)


class ObjectInDataStoreState(enum.StrEnum):
    """``state`` of template_store_ref, volume_store_ref, snapshot_store_ref, template_spool_ref."""

    Allocated = "Allocated"
    Creating2 = "Creating2"
    Creating = "Creating"
    Created = "Created"
    Ready = "Ready"
    Copying = "Copying"
    Migrating = "Migrating"
    Migrated = "Migrated"
    Destroying = "Destroying"
    Destroyed = "Destroyed"
    Failed = "Failed"
    Hidden = "Hidden"


class ObjectInDataStoreEvent(enum.StrEnum):
    """ObjectInDataStoreStateMachine.Event (``OperationSuccessed`` sic); several have no rows."""

    CreateRequested = "CreateRequested"
    CreateOnlyRequested = "CreateOnlyRequested"
    DestroyRequested = "DestroyRequested"
    OperationSuccessed = "OperationSuccessed"
    OperationFailed = "OperationFailed"
    CopyRequested = "CopyRequested"
    CopyingRequested = "CopyingRequested"
    MigrationRequested = "MigrationRequested"
    MigrationSucceeded = "MigrationSucceeded"
    MigrationFailed = "MigrationFailed"
    MigrationCopyRequested = "MigrationCopyRequested"
    MigrationCopySucceeded = "MigrationCopySucceeded"
    MigrationCopyFailed = "MigrationCopyFailed"
    ResizeRequested = "ResizeRequested"
    ExpungeRequested = "ExpungeRequested"
    MigrateDataRequested = "MigrateDataRequested"


_O = ObjectInDataStoreState
_OE = ObjectInDataStoreEvent
_OBJECT_DONE = (_OE.OperationSuccessed, _OE.OperationFailed)

# Row for row CloudStack's ObjectInDataStore FSM (reference §3.4).
_OBJECT_ROWS: list[
    tuple[
        ObjectInDataStoreState,
        ObjectInDataStoreEvent | tuple[ObjectInDataStoreEvent, ...],
        ObjectInDataStoreState,
    ]
] = [
    (_O.Allocated, _OE.CreateOnlyRequested, _O.Creating),
    (_O.Allocated, _OE.DestroyRequested, _O.Destroying),
    (_O.Allocated, _OE.OperationFailed, _O.Failed),
    (_O.Allocated, _OE.OperationSuccessed, _O.Ready),
    (_O.Allocated, _OE.MigrateDataRequested, _O.Migrating),
    (_O.Creating, _OE.OperationFailed, _O.Allocated),
    (_O.Creating, _OE.OperationSuccessed, _O.Ready),
    (_O.Ready, _OE.CopyingRequested, _O.Copying),
    (_O.Ready, _OE.CopyRequested, _O.Copying),
    (_O.Ready, _OE.DestroyRequested, _O.Destroying),
    (_O.Ready, _OE.OperationSuccessed, _O.Ready),
    (_O.Ready, _OE.MigrateDataRequested, _O.Migrating),
    (_O.Copying, _OBJECT_DONE, _O.Ready),
    (_O.Destroying, _OE.DestroyRequested, _O.Destroying),
    (_O.Destroying, _OE.OperationSuccessed, _O.Destroyed),
    (_O.Destroying, _OE.OperationFailed, _O.Destroying),
    (_O.Failed, _OE.DestroyRequested, _O.Destroying),
    (_O.Migrating, _OE.MigrationFailed, _O.Failed),
    (_O.Migrating, _OE.MigrationSucceeded, _O.Destroyed),
    (_O.Migrating, _OBJECT_DONE, _O.Ready),
]

_SET_DIRECTLY = (
    "CloudStack sets it outside the FSM; nothing in cirrostack writes it, a row may only be "
    "imported in it"
)

OBJECT_IN_DATA_STORE: machine.Machine[ObjectInDataStoreState, ObjectInDataStoreEvent] = (
    machine.Machine(
        name="ObjectInDataStore",
        states=ObjectInDataStoreState,
        events=ObjectInDataStoreEvent,
        transitions=machine.table(_OBJECT_ROWS),
        initial=ObjectInDataStoreState.Allocated,
        transitional=frozenset(
            {_O.Creating2, _O.Creating, _O.Copying, _O.Migrating, _O.Destroying}
        ),
        unreachable={
            _O.Creating2: f"download in progress, derived from download_state; {_SET_DIRECTLY}",
            _O.Created: _SET_DIRECTLY,
            _O.Migrated: _SET_DIRECTLY,
            _O.Hidden: _SET_DIRECTLY,
        },
    )
)


class TemplateState(enum.StrEnum):
    """``vm_template.state``: upload progress only; readiness is per store (ObjectInDataStore)."""

    Active = "Active"
    Inactive = "Inactive"
    NotUploaded = "NotUploaded"
    UploadInProgress = "UploadInProgress"
    UploadError = "UploadError"
    UploadAbandoned = "UploadAbandoned"


class TemplateEvent(enum.StrEnum):
    """VirtualMachineTemplate.Event."""

    OperationFailed = "OperationFailed"
    OperationSucceeded = "OperationSucceeded"
    UploadRequested = "UploadRequested"
    OperationTimeout = "OperationTimeout"


_T = TemplateState
_TE = TemplateEvent

# Row for row CloudStack's VirtualMachineTemplate FSM (reference §3.5).
_TEMPLATE_ROWS: list[
    tuple[TemplateState, TemplateEvent | tuple[TemplateEvent, ...], TemplateState]
] = [
    (_T.NotUploaded, _TE.OperationTimeout, _T.UploadAbandoned),
    (_T.NotUploaded, _TE.UploadRequested, _T.UploadInProgress),
    (_T.NotUploaded, _TE.OperationSucceeded, _T.Active),
    (_T.NotUploaded, _TE.OperationFailed, _T.UploadError),
    (_T.UploadInProgress, _TE.OperationSucceeded, _T.Active),
    (_T.UploadInProgress, (_TE.OperationFailed, _TE.OperationTimeout), _T.UploadError),
]

TEMPLATE: machine.Machine[TemplateState, TemplateEvent] = machine.Machine(
    name="Template",
    states=TemplateState,
    events=TemplateEvent,
    transitions=machine.table(_TEMPLATE_ROWS),
    # Registered-by-URL and system templates are created Active; browser uploads NotUploaded.
    initial=TemplateState.Active,
    entry=frozenset({TemplateState.NotUploaded}),
    transitional=frozenset({_T.UploadInProgress}),
    unreachable={
        _T.Inactive: (
            "CloudStack sets it outside the FSM when a deleted template has left every image "
            "store; cirrostack has no transition to it until template deletion is built"
        ),
    },
)
