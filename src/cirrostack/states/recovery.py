"""What to do with a resource left in a transitional state when no job owns it any more.

A resource enters a transitional state only together with the job that owns it (same
transaction). If that job dies (its worker was killed, it failed without cleaning up, it was
given up after too many attempts), the reaper finds the resource transitional with no
unfinished job and applies the rule below through the gate: roll back to the last stable state
(the event CloudStack's code fires on failure), or roll forward when a probe shows the work was
in fact done. An ``undo`` hook gives back what the job took with the transitional state besides
the state (a pool's claimed capacity), in the same savepoint. Rules are data; a test checks
that every rule is a transition of its machine that ends in a stable state (or in one left to
another owner for a stated reason), and that every transitional state has a rule or a stated
reason not to (tests/unit/test_recovery_rules.py).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.compute import stranded as compute_stranded
from cirrostack.states import bindings, machines
from cirrostack.storage import stranded

#: A probe looks at the real world (an agent, the disk) and returns the event that matches it,
#: or None to fall back to the rule's event.
Probe = Callable[[Session, Any], enum.StrEnum | None]
#: An undo gives back what a job took with the state (capacity, a pool), after the rule's
#: transition, in the same savepoint.
Undo = Callable[[Session, Any], None]


@dataclass(frozen=True)
class Recovery:
    """The rules for one binding: state → event, and states deliberately left alone."""

    binding: bindings.Binding[Any, Any]
    rules: Mapping[enum.StrEnum, enum.StrEnum]
    left_alone: Mapping[enum.StrEnum, str] = field(default_factory=dict)
    probes: Mapping[enum.StrEnum, Probe] = field(default_factory=dict)
    undo: Mapping[enum.StrEnum, Undo] = field(default_factory=dict)


_VM, _VME = machines.VmState, machines.VmEvent
_V, _VE = machines.VolumeState, machines.VolumeEvent
_S, _SE = machines.SnapshotState, machines.SnapshotEvent
_O, _OE = machines.ObjectInDataStoreState, machines.ObjectInDataStoreEvent
_T, _TE = machines.TemplateState, machines.TemplateEvent
_N, _NE = machines.NetworkState, machines.NetworkEvent
_R, _RE = machines.ResourceState, machines.ResourceStateEvent

_STORE_COPY_RULES: Mapping[enum.StrEnum, enum.StrEnum] = {
    _O.Creating: _OE.OperationFailed,
    _O.Copying: _OE.OperationFailed,
    _O.Migrating: _OE.OperationFailed,
}
_STORE_COPY_LEFT: Mapping[enum.StrEnum, str] = {
    _O.Destroying: (
        "a deletion whose agent did not confirm stays Destroying with its reason; deleting "
        "again sends the DeleteCommand again (Destroying -[DestroyRequested]-> Destroying)"
    ),
    _O.Creating2: "set directly from download reports, never by a job",
}
#: A template's copy on an image store is Allocated only while the job that downloads or
#: copies it is unfinished (registerTemplate and copyTemplate queue it in the transaction that
#: inserts the copy, naming it as the job's instance or holding it); one with no unfinished job
#: left (the job was given up, cancelled, or the server lost it) would wait forever: Failed,
#: so listTemplates says so and deleteTemplate can remove it.
_TEMPLATE_COPY_RULES: Mapping[enum.StrEnum, enum.StrEnum] = {
    **_STORE_COPY_RULES,
    _O.Allocated: _OE.OperationFailed,
}

RECOVERIES = (
    Recovery(
        bindings.VM,
        {
            _VM.Starting: _VME.OperationFailed,
            _VM.Stopping: _VME.OperationFailed,
            _VM.Migrating: _VME.OperationFailed,
            _VM.Restoring: _VME.RestoringFailed,
        },
        {_VM.Expunging: "expunging is retried by the expunge collector until it succeeds"},
        undo={_VM.Starting: compute_stranded.vm_start},
    ),
    Recovery(
        bindings.VOLUME,
        {
            _V.Creating: _VE.OperationFailed,
            _V.Migrating: _VE.OperationFailed,
            _V.Snapshotting: _VE.OperationFailed,
            _V.RevertSnapshotting: _VE.OperationFailed,
            _V.Resizing: _VE.OperationFailed,
            _V.Expunging: _VE.OperationFailed,
            _V.UploadOp: _VE.OperationFailed,
            _V.Copying: _VE.OperationFailed,
            _V.UploadInProgress: _VE.OperationFailed,
            _V.Attaching: _VE.OperationFailed,
            _V.Restoring: _VE.RestoreFailed,
        },
        {_V.Destroying: "no transition enters it"},
        undo={_V.Creating: stranded.volume_creation},
    ),
    Recovery(
        bindings.SNAPSHOT,
        {
            _S.Creating: _SE.OperationFailed,
            _S.BackingUp: _SE.OperationFailed,
            _S.Copying: _SE.OperationFailed,
            _S.Destroying: _SE.OperationFailed,
        },
    ),
    Recovery(bindings.TEMPLATE, {_T.UploadInProgress: _TE.OperationFailed}),
    Recovery(
        bindings.NETWORK,
        {_N.Implementing: _NE.OperationFailed},
        {_N.Shutdown: "the network collector finishes shutdowns; no job owns them"},
    ),
    Recovery(
        bindings.HOST_RESOURCE_STATE,
        {_R.PrepareForMaintenance: _RE.AdminCancelMaintenance},
        {_R.Creating: "the host monitor finishes a host's first connection, not a job"},
    ),
    Recovery(
        bindings.STORAGE_POOL,
        {
            machines.StoragePoolStatus.PrepareForMaintenance: (
                machines.StoragePoolEvent.MaintenanceFailed
            ),
            machines.StoragePoolStatus.CancelMaintenance: (
                machines.StoragePoolEvent.MaintenanceFailed
            ),
        },
    ),
    Recovery(bindings.TEMPLATE_STORE_REF, _TEMPLATE_COPY_RULES, _STORE_COPY_LEFT),
    *(
        Recovery(binding, _STORE_COPY_RULES, _STORE_COPY_LEFT)
        for binding in (
            bindings.VOLUME_STORE_REF,
            bindings.SNAPSHOT_STORE_REF,
        )
    ),
    Recovery(
        bindings.TEMPLATE_SPOOL_REF,
        _STORE_COPY_RULES,
        _STORE_COPY_LEFT,
        undo={_O.Creating: stranded.template_copy_to_pool},
    ),
)

#: Bindings whose transitional states no job owns (the host monitor drives host status).
UNOWNED = {bindings.HOST_STATUS: "host status follows the agent connection, driven by the monitor"}


def event_for(
    recovery: Recovery, session: Session, resource: Any, state: enum.StrEnum
) -> enum.StrEnum:
    """The event that recovers ``resource`` from ``state``: the probe's answer, else the rule."""
    probe = recovery.probes.get(state)
    found = probe(session, resource) if probe is not None else None
    return found if found is not None else recovery.rules[state]
