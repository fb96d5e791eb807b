"""Every machine against a table transcribed by hand from the reference (§3 of
cloudstack-schema-and-states.md), never imported from the code: a typo on either side fails.

For every machine the whole cross product of states x events is checked: a pair in the table
leads exactly to its target, every other pair raises NoTransition.

Table syntax: ``From | Event[/Event...] | To [| U]``; U marks a usage-impacting transition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pytest

from cirrostack.states import errors, machine, machines


@dataclass(frozen=True)
class Expected:
    machine: machine.Machine[enum.StrEnum, enum.StrEnum]
    states: str
    events: str
    table: str
    initial: str
    entry: str
    transitional: str
    unreachable: str


VM = Expected(
    machine=machines.VM,  # type: ignore[arg-type]
    states="Starting Running Stopping Stopped Destroyed Expunging Migrating Error Unknown "
    "Shutdown Restoring",
    events="CreateRequested StartRequested StopRequested DestroyRequested RecoveryRequested "
    "AgentReportStopped AgentReportRunning MigrationRequested StorageMigrationRequested "
    "ExpungeOperation OperationSucceeded OperationFailed OperationFailedToError OperationRetry "
    "AgentReportShutdowned AgentReportMigrated RevertRequested SnapshotRequested "
    "FollowAgentPowerOnReport FollowAgentPowerOffReport RestoringRequested RestoringSuccess "
    "RestoringFailed",
    table="""
        Stopped | StartRequested | Starting
        Stopped | DestroyRequested | Destroyed | U
        Stopped | StopRequested | Stopped
        Stopped | AgentReportStopped | Stopped
        Stopped | OperationFailedToError | Error | U
        Stopped | OperationFailed | Stopped
        Stopped | ExpungeOperation | Expunging | U
        Stopped | AgentReportShutdowned | Stopped
        Stopped | StorageMigrationRequested | Migrating
        Stopped | FollowAgentPowerOnReport | Running | U
        Stopped | FollowAgentPowerOffReport | Stopped
        Stopped | RestoringRequested | Restoring
        Starting | OperationRetry | Starting
        Starting | OperationSucceeded | Running | U
        Starting | OperationFailed | Stopped
        Starting | AgentReportRunning | Running | U
        Starting | AgentReportStopped | Stopped
        Starting | AgentReportShutdowned | Stopped
        Starting | FollowAgentPowerOnReport | Running | U
        Starting | FollowAgentPowerOffReport | Stopped
        Running | MigrationRequested | Migrating
        Running | AgentReportRunning | Running
        Running | AgentReportStopped | Stopped | U
        Running | StopRequested | Stopping
        Running | AgentReportShutdowned | Stopped | U
        Running | AgentReportMigrated | Running
        Running | OperationSucceeded | Running
        Running | FollowAgentPowerOnReport | Running
        Running | FollowAgentPowerOffReport | Stopped | U
        Migrating | MigrationRequested | Migrating
        Migrating | OperationSucceeded | Running
        Migrating | OperationFailed | Running
        Migrating | AgentReportRunning | Running
        Migrating | AgentReportStopped | Stopped
        Migrating | AgentReportShutdowned | Stopped
        Migrating | FollowAgentPowerOnReport | Running
        Migrating | FollowAgentPowerOffReport | Stopped
        Stopping | OperationSucceeded | Stopped | U
        Stopping | OperationFailed | Running
        Stopping | AgentReportRunning | Running
        Stopping | AgentReportStopped | Stopped | U
        Stopping | StopRequested | Stopping
        Stopping | AgentReportShutdowned | Stopped | U
        Stopping | FollowAgentPowerOnReport | Running
        Stopping | FollowAgentPowerOffReport | Stopped | U
        Destroyed | RecoveryRequested | Stopped | U
        Destroyed | ExpungeOperation | Expunging
        Destroyed | RestoringRequested | Restoring
        Expunging | OperationFailed | Expunging
        Expunging | ExpungeOperation | Expunging
        Expunging | RestoringRequested | Restoring
        Error | DestroyRequested | Expunging
        Error | ExpungeOperation | Expunging
        Restoring | RestoringSuccess/RestoringFailed | Stopped
    """,
    initial="Stopped",
    entry="Stopped",
    transitional="Starting Stopping Expunging Migrating Restoring",
    unreachable="Unknown Shutdown",
)

VOLUME = Expected(
    machine=machines.VOLUME,  # type: ignore[arg-type]
    states="Allocated Creating Ready Migrating Snapshotting RevertSnapshotting Resizing "
    "Expunging Expunged Destroy Destroying UploadOp Copying Uploaded NotUploaded "
    "UploadInProgress UploadError UploadAbandoned Attaching Restoring",
    events="CreateRequested CopyRequested CopySucceeded CopyFailed OperationFailed "
    "OperationSucceeded OperationRetry UploadRequested MigrationRequested "
    "MigrationCopyRequested MigrationCopySucceeded MigrationCopyFailed SnapshotRequested "
    "RevertSnapshotRequested DestroyRequested RecoverRequested ExpungingRequested "
    "ResizeRequested AttachRequested OperationTimeout OperationRetryFromError "
    "RestoreRequested RestoreSucceeded RestoreFailed",
    table="""
        Allocated | CreateRequested | Creating
        Allocated | DestroyRequested | Destroy
        Allocated | OperationFailed | Allocated
        Allocated | OperationSucceeded | Allocated
        Allocated | UploadRequested | UploadOp
        Allocated | MigrationCopyRequested | Creating
        Creating | OperationRetry | Creating
        Creating | OperationFailed | Allocated
        Creating | OperationSucceeded | Ready
        Creating | DestroyRequested | Destroy
        Creating | CreateRequested | Creating
        Creating | MigrationCopyFailed | Allocated
        Creating | MigrationCopySucceeded | Ready | U
        Ready | CreateRequested | Creating
        Ready | ResizeRequested | Resizing
        Ready | OperationSucceeded | Ready
        Ready | OperationFailed | Ready
        Ready | DestroyRequested | Destroy
        Ready | SnapshotRequested | Snapshotting
        Ready | RevertSnapshotRequested | RevertSnapshotting
        Ready | MigrationRequested | Migrating
        Ready | AttachRequested | Attaching
        Ready | RestoreRequested | Restoring
        Resizing | OperationSucceeded | Ready | U
        Resizing | OperationFailed | Ready
        Snapshotting | OperationSucceeded/OperationFailed | Ready
        RevertSnapshotting | OperationSucceeded/OperationFailed | Ready
        Migrating | OperationSucceeded/OperationFailed | Ready
        Attaching | OperationSucceeded/OperationFailed | Ready
        Uploaded | CopyRequested | Copying
        Uploaded | DestroyRequested | Destroy
        Copying | OperationSucceeded | Ready | U
        Copying | OperationFailed | Uploaded
        UploadOp | DestroyRequested | Destroy
        UploadOp | OperationSucceeded | Uploaded
        UploadOp | OperationFailed | Allocated
        NotUploaded | OperationTimeout | UploadAbandoned
        NotUploaded | UploadRequested | UploadInProgress
        NotUploaded | OperationSucceeded | Uploaded
        NotUploaded | OperationFailed | UploadError
        UploadInProgress | OperationSucceeded | Uploaded
        UploadInProgress | OperationFailed/OperationTimeout | UploadError
        UploadError | DestroyRequested | Destroy
        UploadAbandoned | DestroyRequested | Destroy
        Destroy | ExpungingRequested | Expunging
        Destroy | OperationSucceeded | Destroy | U
        Destroy | OperationFailed | Destroy | U
        Destroy | RecoverRequested | Ready
        Destroy | OperationRetryFromError | Allocated
        Destroy | RestoreRequested | Restoring
        Expunging | ExpungingRequested | Expunging
        Expunging | OperationSucceeded | Expunged
        Expunging | OperationFailed | Destroy
        Expunged | ExpungingRequested/OperationSucceeded/OperationFailed | Expunged
        Expunged | RestoreRequested | Restoring
        Restoring | RestoreSucceeded/RestoreFailed | Ready
    """,
    initial="Allocated",
    entry="Allocated NotUploaded",
    transitional="Creating Migrating Snapshotting RevertSnapshotting Resizing Expunging "
    "Destroying UploadOp Copying UploadInProgress Attaching Restoring",
    unreachable="Destroying",
)

SNAPSHOT = Expected(
    machine=machines.SNAPSHOT,  # type: ignore[arg-type]
    states="Allocated Creating CreatedOnPrimary BackingUp BackedUp Copying Destroying "
    "Destroyed Error",
    events="CreateRequested OperationNotPerformed BackupToSecondary BackedupToSecondary "
    "DestroyRequested CopyingRequested OperationSucceeded OperationFailed",
    table="""
        Allocated | CreateRequested | Creating
        Creating | OperationSucceeded | CreatedOnPrimary
        Creating | OperationNotPerformed | BackedUp
        Creating | OperationFailed | Error
        CreatedOnPrimary | BackupToSecondary | BackingUp
        CreatedOnPrimary | OperationNotPerformed | BackedUp
        BackingUp | OperationSucceeded | BackedUp
        BackingUp | OperationFailed | CreatedOnPrimary
        BackedUp | DestroyRequested | Destroying
        BackedUp | CopyingRequested | Copying
        Copying | OperationSucceeded/OperationFailed | BackedUp
        Destroying | OperationSucceeded | Destroyed
        Destroying | OperationFailed | BackedUp
    """,
    initial="Allocated",
    entry="Allocated",
    transitional="Creating BackingUp Copying Destroying",
    unreachable="",
)

OBJECT_IN_DATA_STORE = Expected(
    machine=machines.OBJECT_IN_DATA_STORE,  # type: ignore[arg-type]
    states="Allocated Creating2 Creating Created Ready Copying Migrating Migrated Destroying "
    "Destroyed Failed Hidden",
    events="CreateRequested CreateOnlyRequested DestroyRequested OperationSuccessed "
    "OperationFailed CopyRequested CopyingRequested MigrationRequested MigrationSucceeded "
    "MigrationFailed MigrationCopyRequested MigrationCopySucceeded MigrationCopyFailed "
    "ResizeRequested ExpungeRequested MigrateDataRequested",
    table="""
        Allocated | CreateOnlyRequested | Creating
        Allocated | DestroyRequested | Destroying
        Allocated | OperationFailed | Failed
        Allocated | OperationSuccessed | Ready
        Allocated | MigrateDataRequested | Migrating
        Creating | OperationFailed | Allocated
        Creating | OperationSuccessed | Ready
        Ready | CopyingRequested | Copying
        Ready | CopyRequested | Copying
        Ready | DestroyRequested | Destroying
        Ready | OperationSuccessed | Ready
        Ready | MigrateDataRequested | Migrating
        Copying | OperationSuccessed/OperationFailed | Ready
        Destroying | DestroyRequested | Destroying
        Destroying | OperationSuccessed | Destroyed
        Destroying | OperationFailed | Destroying
        Failed | DestroyRequested | Destroying
        Migrating | MigrationFailed | Failed
        Migrating | MigrationSucceeded | Destroyed
        Migrating | OperationSuccessed/OperationFailed | Ready
    """,
    initial="Allocated",
    entry="Allocated",
    transitional="Creating2 Creating Copying Migrating Destroying",
    unreachable="Creating2 Created Migrated Hidden",
)

TEMPLATE = Expected(
    machine=machines.TEMPLATE,  # type: ignore[arg-type]
    states="Active Inactive NotUploaded UploadInProgress UploadError UploadAbandoned",
    events="OperationFailed OperationSucceeded UploadRequested OperationTimeout",
    table="""
        NotUploaded | OperationTimeout | UploadAbandoned
        NotUploaded | UploadRequested | UploadInProgress
        NotUploaded | OperationSucceeded | Active
        NotUploaded | OperationFailed | UploadError
        UploadInProgress | OperationSucceeded | Active
        UploadInProgress | OperationFailed/OperationTimeout | UploadError
    """,
    initial="Active",
    entry="Active NotUploaded",
    transitional="UploadInProgress",
    unreachable="Inactive",
)

NETWORK = Expected(
    machine=machines.NETWORK,  # type: ignore[arg-type]
    states="Allocated Setup Implementing Implemented Shutdown Destroy",
    events="ImplementNetwork DestroyNetwork OperationSucceeded OperationFailed",
    table="""
        Allocated | ImplementNetwork | Implementing
        Implementing | OperationSucceeded | Implemented
        Implementing | OperationFailed | Shutdown
        Implemented | DestroyNetwork | Shutdown
        Shutdown | OperationSucceeded | Allocated
        Shutdown | OperationFailed | Shutdown
        Setup | DestroyNetwork | Destroy
        Allocated | DestroyNetwork | Destroy
    """,
    initial="Allocated",
    entry="Allocated Setup",
    transitional="Implementing Shutdown",
    unreachable="",
)

# The reference's "(null) AgentConnected -> Connecting" row is represented by Creating, which
# has the same transition (a host row is inserted Creating; the column is NOT NULL).
HOST_STATUS = Expected(
    machine=machines.HOST_STATUS,  # type: ignore[arg-type]
    states="Creating Connecting Up Down Disconnected Alert Removed Error Rebalancing Unknown",
    events="AgentConnected PingTimeout ShutdownRequested AgentDisconnected HostDown Ping "
    "ManagementServerDown WaitedTooLong Remove Ready RequestAgentRebalance StartAgentRebalance "
    "RebalanceCompleted RebalanceFailed Error",
    table="""
        Creating | AgentConnected | Connecting
        Creating | Error | Error
        Connecting | AgentConnected | Connecting
        Connecting | Ready | Up
        Connecting | PingTimeout | Alert
        Connecting | ShutdownRequested | Disconnected
        Connecting | HostDown | Down
        Connecting | Ping | Connecting
        Connecting | ManagementServerDown | Disconnected
        Connecting | AgentDisconnected | Alert
        Up | PingTimeout | Alert
        Up | AgentDisconnected | Alert
        Up | ShutdownRequested | Disconnected
        Up | HostDown | Down
        Up | Ping | Up
        Up | AgentConnected | Connecting
        Up | ManagementServerDown | Disconnected
        Up | StartAgentRebalance | Rebalancing
        Up | Remove | Removed
        Disconnected | ShutdownRequested | Disconnected
        Disconnected | PingTimeout | Alert
        Disconnected | AgentConnected | Connecting
        Disconnected | Ping | Up
        Disconnected | HostDown | Down
        Disconnected | ManagementServerDown | Disconnected
        Disconnected | WaitedTooLong | Alert
        Disconnected | Remove | Removed
        Disconnected | AgentDisconnected | Disconnected
        Down | AgentConnected | Connecting
        Down | Remove | Removed
        Down | ManagementServerDown/AgentDisconnected/PingTimeout/HostDown | Down
        Alert | AgentConnected | Connecting
        Alert | Ping | Up
        Alert | Remove | Removed
        Alert | ManagementServerDown | Alert
        Alert | AgentDisconnected | Alert
        Alert | ShutdownRequested | Disconnected
        Alert | HostDown | Down
        Rebalancing | RebalanceFailed | Disconnected
        Rebalancing | RebalanceCompleted | Connecting
        Rebalancing | ManagementServerDown | Disconnected
        Rebalancing | AgentConnected | Connecting
        Rebalancing | AgentDisconnected | Rebalancing
        Error | AgentConnected | Connecting
    """,
    initial="Creating",
    entry="Creating",
    transitional="Creating Connecting Rebalancing",
    unreachable="Unknown",
)

# Likewise "(null) InternalCreated -> Enabled" is represented by Creating.
HOST_RESOURCE_STATE = Expected(
    machine=machines.HOST_RESOURCE_STATE,  # type: ignore[arg-type]
    states="Creating Enabled Disabled ErrorInPrepareForMaintenance PrepareForMaintenance "
    "ErrorInMaintenance Maintenance Error Degraded",
    events="InternalCreated Enable Disable AdminAskMaintenance AdminCancelMaintenance "
    "InternalEnterMaintenance UpdatePassword UnableToMigrate UnableToMaintain ErrorsCorrected "
    "Error DeleteHost DeclareHostDegraded EnableDegradedHost Unmanaged",
    table="""
        Creating | InternalCreated | Enabled
        Creating | Error | Error
        Enabled | Enable | Enabled
        Enabled | InternalCreated | Enabled
        Enabled | Disable | Disabled
        Enabled | AdminAskMaintenance | PrepareForMaintenance
        Enabled | DeclareHostDegraded | Degraded
        Enabled | InternalEnterMaintenance | Maintenance
        Disabled | Enable | Enabled
        Disabled | Disable | Disabled
        Disabled | InternalCreated | Disabled
        Disabled | DeclareHostDegraded | Degraded
        Disabled | DeleteHost | Disabled
        PrepareForMaintenance | InternalEnterMaintenance | Maintenance
        PrepareForMaintenance | AdminCancelMaintenance | Enabled
        PrepareForMaintenance | UnableToMigrate | ErrorInPrepareForMaintenance
        PrepareForMaintenance | UnableToMaintain | ErrorInMaintenance
        PrepareForMaintenance | InternalCreated | PrepareForMaintenance
        Maintenance | AdminCancelMaintenance | Enabled
        Maintenance | InternalCreated | Maintenance
        Maintenance | DeleteHost | Disabled
        Maintenance | DeclareHostDegraded | Degraded
        ErrorInPrepareForMaintenance | InternalCreated | ErrorInPrepareForMaintenance
        ErrorInPrepareForMaintenance | Disable | Disabled
        ErrorInPrepareForMaintenance | DeleteHost | Disabled
        ErrorInPrepareForMaintenance | InternalEnterMaintenance | Maintenance
        ErrorInPrepareForMaintenance | AdminCancelMaintenance | Enabled
        ErrorInPrepareForMaintenance | UnableToMigrate | ErrorInPrepareForMaintenance
        ErrorInPrepareForMaintenance | UnableToMaintain | ErrorInMaintenance
        ErrorInPrepareForMaintenance | ErrorsCorrected | PrepareForMaintenance
        ErrorInMaintenance | InternalCreated | ErrorInMaintenance
        ErrorInMaintenance | AdminAskMaintenance | PrepareForMaintenance
        ErrorInMaintenance | Disable | Disabled
        ErrorInMaintenance | DeleteHost | Disabled
        ErrorInMaintenance | AdminCancelMaintenance | Enabled
        Error | InternalCreated | Error
        Degraded | DeleteHost | Disabled
        Degraded | EnableDegradedHost | Enabled
        Degraded | AdminAskMaintenance | Maintenance
    """,
    initial="Creating",
    entry="Creating",
    transitional="Creating PrepareForMaintenance",
    unreachable="",
)

STORAGE_POOL_STATUS = Expected(
    machines.STORAGE_POOL_STATUS,
    states="Initial Initialized Creating Attaching Up PrepareForMaintenance ErrorInMaintenance "
    "CancelMaintenance Maintenance Disabled Removed",
    events="Attached Disable Enable AskMaintenance EnteredMaintenance MaintenanceFailed "
    "CancelMaintenance MaintenanceCancelled",
    table="""
        Initialized | Attached | Up
        Up | Attached | Up
        Disabled | Attached | Disabled
        Up | Disable | Disabled
        Disabled | Disable | Disabled
        Disabled | Enable | Up
        Up | Enable | Up
        Up | AskMaintenance | PrepareForMaintenance
        Disabled | AskMaintenance | PrepareForMaintenance
        ErrorInMaintenance | AskMaintenance | PrepareForMaintenance
        PrepareForMaintenance | EnteredMaintenance | Maintenance
        PrepareForMaintenance | MaintenanceFailed | ErrorInMaintenance
        Maintenance | CancelMaintenance | CancelMaintenance
        ErrorInMaintenance | CancelMaintenance | CancelMaintenance
        CancelMaintenance | MaintenanceCancelled | Up
        CancelMaintenance | MaintenanceFailed | ErrorInMaintenance
    """,
    initial="Initialized",
    entry="Initialized",
    transitional="PrepareForMaintenance CancelMaintenance",
    unreachable="Initial Creating Attaching Removed",
)

EXPECTED = {
    e.machine.name: e
    for e in (
        VM,
        VOLUME,
        SNAPSHOT,
        OBJECT_IN_DATA_STORE,
        TEMPLATE,
        NETWORK,
        HOST_STATUS,
        HOST_RESOURCE_STATE,
        STORAGE_POOL_STATUS,
    )
}

Table = dict[tuple[str, str], str]


def parse(text: str) -> tuple[Table, set[tuple[str, str]]]:
    """The transitions and the usage-flagged pairs of a hand-written table."""
    transitions: Table = {}
    usage: set[tuple[str, str]] = set()
    for line in text.strip().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        source, events, target = cells[:3]
        for event in events.split("/"):
            assert (source, event) not in transitions, f"duplicate row {source} {event}"
            transitions[(source, event)] = target
            if cells[3:] == ["U"]:
                usage.add((source, event))
    return transitions, usage


def words(text: str) -> set[str]:
    return set(text.split())


def every_pair() -> list[tuple[str, str, str]]:
    return [
        (name, state.value, event.value)
        for name, expected in EXPECTED.items()
        for state in expected.machine.states
        for event in expected.machine.events
    ]


def test_every_machine_is_checked() -> None:
    assert set(EXPECTED) == {m.name for m in machines.ALL}
    assert len(machines.ALL) == 9


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_states_and_events_are_cloudstacks_wire_strings(name: str) -> None:
    expected = EXPECTED[name]
    assert {s.value for s in expected.machine.states} == words(expected.states)
    assert {e.value for e in expected.machine.events} == words(expected.events)
    for member in (*expected.machine.states, *expected.machine.events):
        assert member.value == member.name


@pytest.mark.parametrize(("name", "state", "event"), every_pair())
def test_every_state_event_pair(name: str, state: str, event: str) -> None:
    expected = EXPECTED[name]
    fsm = expected.machine
    table, _ = parse(expected.table)
    if (state, event) in table:
        assert fsm.next(fsm.states(state), fsm.events(event)) == table[(state, event)]
        assert fsm.allows(fsm.states(state), fsm.events(event))
    else:
        with pytest.raises(errors.NoTransition) as caught:
            fsm.next(fsm.states(state), fsm.events(event))
        assert (caught.value.machine, caught.value.state, caught.value.event) == (
            name,
            state,
            event,
        )
        assert not fsm.allows(fsm.states(state), fsm.events(event))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_table_sizes_match(name: str) -> None:
    """With the pair test this proves the code's table is exactly the expected one."""
    expected = EXPECTED[name]
    table, _ = parse(expected.table)
    assert {(s.value, e.value): t.value for (s, e), t in expected.machine.transitions.items()} == (
        table
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_usage_impacting_transitions(name: str) -> None:
    expected = EXPECTED[name]
    _, usage = parse(expected.table)
    assert {(s.value, e.value) for s, e in expected.machine.usage} == usage


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_initial_and_entry_states(name: str) -> None:
    expected = EXPECTED[name]
    assert expected.machine.initial == expected.initial
    assert {s.value for s in expected.machine.entry} == words(expected.entry)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_transitional_and_stable_states(name: str) -> None:
    expected = EXPECTED[name]
    fsm = expected.machine
    assert {s.value for s in fsm.transitional} == words(expected.transitional)
    assert {s.value for s in fsm.stable} == words(expected.states) - words(expected.transitional)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_state_is_reachable_or_explained(name: str) -> None:
    expected = EXPECTED[name]
    fsm = expected.machine
    table, _ = parse(expected.table)
    reached = words(expected.entry)
    while True:
        more = {t for (s, _), t in table.items() if s in reached} - reached
        if not more:
            break
        reached |= more
    assert {s.value for s in fsm.reachable()} == reached
    assert words(expected.states) - reached == words(expected.unreachable)
    assert {s.value for s in fsm.unreachable} == words(expected.unreachable)
    assert all(reason.strip() for reason in fsm.unreachable.values())


def test_vm_transitional_states_are_those_the_reference_marks() -> None:
    # §3.1 marks Starting*, Stopping*, Expunging*, Migrating*, Restoring*.
    assert {s.value for s in machines.VM.transitional} == {
        "Starting",
        "Stopping",
        "Expunging",
        "Migrating",
        "Restoring",
    }


def test_spellings_cloudstack_stores() -> None:
    assert machines.VolumeState.Destroy == "Destroy"
    assert "Destroyed" not in {s.value for s in machines.VolumeState}
    assert machines.ObjectInDataStoreEvent.OperationSuccessed == "OperationSuccessed"


def test_no_transition_message_names_state_and_event() -> None:
    with pytest.raises(errors.NoTransition, match="Snapshotting: SnapshotRequested is not"):
        machines.VOLUME.next(
            machines.VolumeState.Snapshotting, machines.VolumeEvent.SnapshotRequested
        )


def test_events_from_lists_the_allowed_events() -> None:
    assert machines.SNAPSHOT.events_from(machines.SnapshotState.BackedUp) == {
        machines.SnapshotEvent.DestroyRequested,
        machines.SnapshotEvent.CopyingRequested,
    }
    assert machines.SNAPSHOT.events_from(machines.SnapshotState.Destroyed) == frozenset()


def test_parse_accepts_wire_strings_and_refuses_others() -> None:
    assert machines.VOLUME.parse("Ready") is machines.VolumeState.Ready
    with pytest.raises(errors.UnknownState, match="'Destroyed' is not a known Volume state"):
        machines.VOLUME.parse("Destroyed")


def test_machines_are_immutable() -> None:
    with pytest.raises(TypeError):
        machines.VM.transitions[(machines.VmState.Stopped, machines.VmEvent.CreateRequested)] = (  # type: ignore[index]
            machines.VmState.Running
        )
    with pytest.raises(AttributeError):
        machines.VM.initial = machines.VmState.Running  # type: ignore[misc]


class _S(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"


class _E(enum.StrEnum):
    GO = "GO"


def test_a_state_left_unexplained_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match="neither reachable nor explained"):
        machine.Machine("T", _S, _E, {(_S.A, _E.GO): _S.B}, _S.A, frozenset())


def test_a_reachable_state_listed_as_unreachable_is_refused() -> None:
    with pytest.raises(ValueError, match="listed as unreachable but reachable"):
        machine.Machine(
            "T",
            _S,
            _E,
            {(_S.A, _E.GO): _S.B},
            _S.A,
            frozenset(),
            unreachable={_S.B: "x", _S.C: "y"},
        )


def test_a_repeated_row_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        machine.table([(_S.A, _E.GO, _S.B), (_S.A, _E.GO, _S.C)])


def test_unknown_transitional_state_is_refused() -> None:
    class Other(enum.StrEnum):
        X = "X"

    with pytest.raises(ValueError, match="transitional names unknown"):
        machine.Machine(
            "T",
            _S,
            _E,
            {(_S.A, _E.GO): _S.B},
            _S.A,
            frozenset({Other.X}),  # type: ignore[arg-type]
            unreachable={_S.C: "y"},
        )
