"""The state gate on every backend: one compare-and-swap per transition, an event row with it,
and a typed error (with nothing written) for a missing transition, a stale object and a lost race.
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import (
    accounts,
    compute,
    events,
    guest_os,
    infrastructure,
    network,
    offerings,
    snapshots,
    storage,
    templates,
)
from cirrostack.states import bindings, errors, gate, machines, recovery
from tests.conftest import Database

# --- a small cloud to hang rows on -------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Ids of the parent rows every bound object needs."""

    domain: int
    account: int
    zone: int
    guest_os: int
    service_offering: int
    disk_offering: int
    template: int
    image_store: int
    pool: int
    network_offering: int
    volume: int
    snapshot: int
    host: int


def _add(session: Session, row: Any) -> int:
    session.add(row)
    session.flush()
    return int(row.id)


def build_world(session: Session) -> World:
    domain = _add(session, accounts.Domain(name="ROOT", path="/"))
    account = _add(session, accounts.Account(account_name="admin", type=1, domain_id=domain))
    zone = _add(session, infrastructure.DataCenter(name="zone1"))
    category = _add(session, guest_os.GuestOsCategory(name="Debian"))
    os_id = _add(session, guest_os.GuestOs(category_id=category, display_name="Debian 12"))
    disk_offering = _add(session, offerings.DiskOffering(name="small disk"))
    template = _add(
        session,
        templates.VmTemplate(name="tmpl", format="QCOW2", account_id=account, guest_os_id=os_id),
    )
    volume = _add(session, _volume(account, domain, zone, disk_offering, "Ready"))
    return World(
        domain=domain,
        account=account,
        zone=zone,
        guest_os=os_id,
        service_offering=_add(session, offerings.ServiceOffering(name="small")),
        disk_offering=disk_offering,
        template=template,
        image_store=_add(
            session, storage.ImageStore(name="sec", protocol="nfs", image_provider_name="NFS")
        ),
        pool=_add(
            session,
            storage.StoragePool(
                name="pri",
                pool_type="NetworkFilesystem",
                host_address="10.0.0.2",
                path="/export/primary",
                data_center_id=zone,
            ),
        ),
        network_offering=_add(
            session, network.NetworkOffering(display_text="isolated", traffic_type="Guest")
        ),
        volume=volume,
        snapshot=_add(
            session,
            snapshots.Snapshot(
                data_center_id=zone,
                account_id=account,
                domain_id=domain,
                volume_id=volume,
                disk_offering_id=disk_offering,
                name="snap",
                snapshot_type=0,
                size=1 << 30,
                hypervisor_type="KVM",
            ),
        ),
        host=_add(session, _host(zone)),
    )


def _volume(account: int, domain: int, zone: int, offering: int, state: str) -> storage.Volume:
    return storage.Volume(
        account_id=account,
        domain_id=domain,
        data_center_id=zone,
        volume_type="ROOT",
        disk_offering_id=offering,
        state=state,
    )


_HOSTS = itertools.count(1)


def _host(zone: int, status: str = "Creating", resource_state: str = "Creating") -> Any:
    # A live host's name and address are unique in its zone (migration 0008).
    number = next(_HOSTS)
    return infrastructure.Host(
        name=f"kvm{number}",
        type="Routing",
        data_center_id=zone,
        private_ip_address=f"10.0.{number // 250}.{number % 250 + 1}",
        version="4.20",
        status=status,
        resource_state=resource_state,
    )


def _vm(w: World, state: str) -> compute.VmInstance:
    return compute.VmInstance(
        name="vm1",
        instance_name="i-2-1-VM",
        type="User",
        vm_type="User",
        guest_os_id=w.guest_os,
        service_offering_id=w.service_offering,
        data_center_id=w.zone,
        account_id=w.account,
        domain_id=w.domain,
        vnc_password="secret",
        state=state,
    )


# --- one case per binding ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A fresh row of a bound model in ``start``, an allowed event and a refused one."""

    binding: bindings.Binding[Any, Any]
    make: Callable[[World, str], Any]
    start: str
    event: enum.StrEnum
    target: str
    refused: enum.StrEnum

    @property
    def id(self) -> str:
        return f"{self.binding.model.__name__}.{self.binding.state}"


VE, SE, OE = machines.VolumeEvent, machines.SnapshotEvent, machines.ObjectInDataStoreEvent

CASES = [
    Case(bindings.VM, _vm, "Stopped", machines.VmEvent.StartRequested, "Starting",
         machines.VmEvent.MigrationRequested),
    Case(bindings.VOLUME,
         lambda w, s: _volume(w.account, w.domain, w.zone, w.disk_offering, s),
         "Ready", VE.SnapshotRequested, "Snapshotting", VE.RestoreSucceeded),
    Case(bindings.SNAPSHOT,
         lambda w, s: snapshots.Snapshot(
             data_center_id=w.zone, account_id=w.account, domain_id=w.domain,
             volume_id=w.volume, disk_offering_id=w.disk_offering, name="s2",
             snapshot_type=0, size=1, hypervisor_type="KVM", status=s),
         "Allocated", SE.CreateRequested, "Creating", SE.DestroyRequested),
    Case(bindings.TEMPLATE,
         lambda w, s: templates.VmTemplate(
             name="upload", format="QCOW2", account_id=w.account, guest_os_id=w.guest_os,
             state=s),
         "UploadInProgress", machines.TemplateEvent.OperationSucceeded, "Active",
         machines.TemplateEvent.UploadRequested),
    Case(bindings.NETWORK,
         lambda w, s: network.Network(
             traffic_type="Guest", broadcast_domain_type="Vlan",
             network_offering_id=w.network_offering, data_center_id=w.zone,
             guru_name="ExternalGuestNetworkGuru", account_id=w.account, domain_id=w.domain,
             state=s),
         "Allocated", machines.NetworkEvent.ImplementNetwork, "Implementing",
         machines.NetworkEvent.OperationSucceeded),
    Case(bindings.HOST_STATUS, lambda w, s: _host(w.zone, status=s),
         "Creating", machines.HostStatusEvent.AgentConnected, "Connecting",
         machines.HostStatusEvent.Ping),
    Case(bindings.HOST_RESOURCE_STATE, lambda w, s: _host(w.zone, resource_state=s),
         "Enabled", machines.ResourceStateEvent.Disable, "Disabled",
         machines.ResourceStateEvent.ErrorsCorrected),
    Case(bindings.TEMPLATE_STORE_REF,
         lambda w, s: templates.TemplateStoreRef(
             template_id=w.template, store_id=w.image_store, state=s),
         "Destroying", OE.OperationSuccessed, "Destroyed", OE.CopyRequested),
    Case(bindings.VOLUME_STORE_REF,
         lambda w, s: templates.VolumeStoreRef(
             store_id=w.image_store, volume_id=w.volume, zone_id=w.zone, state=s),
         "Allocated", OE.CreateOnlyRequested, "Creating", OE.CopyRequested),
    Case(bindings.SNAPSHOT_STORE_REF,
         lambda w, s: snapshots.SnapshotStoreRef(
             store_id=w.image_store, store_role="Image", snapshot_id=w.snapshot,
             volume_id=w.volume, state=s),
         "Allocated", OE.OperationSuccessed, "Ready", OE.MigrationSucceeded),
    Case(bindings.TEMPLATE_SPOOL_REF,
         lambda w, s: templates.TemplateSpoolRef(pool_id=w.pool, template_id=w.template, state=s),
         "Ready", OE.CopyRequested, "Copying", OE.CreateOnlyRequested),
    Case(bindings.STORAGE_POOL,
         lambda w, s: storage.StoragePool(
             name="gate-pool", pool_type="NetworkFilesystem", host_address="10.0.0.3",
             path="/gate", data_center_id=w.zone, scope="ZONE", status=s),
         "Up", machines.StoragePoolEvent.Disable, "Disabled",
         machines.StoragePoolEvent.MaintenanceCancelled),
]  # fmt: skip


def test_every_binding_has_a_case() -> None:
    assert {id(c.binding) for c in CASES} == {id(b) for b in bindings.ALL}


@dataclass
class Loaded:
    """A case's row, committed, then loaded in a new session (its transaction open)."""

    session: Session
    resource: Any
    world: World


@pytest.fixture
def open_sessions(database: Database) -> Iterator[list[Session]]:
    opened: list[Session] = []
    yield opened
    for session in opened:
        session.rollback()
        session.close()


def setup_row(database: Database, case: Case, opened: list[Session], state: str = "") -> Loaded:
    with database.sessions.begin() as session:
        world = build_world(session)
        row = case.make(world, state or case.start)
        session.add(row)
        session.flush()
        row_id = row.id
    session = database.sessions()
    opened.append(session)
    return Loaded(session, session.get(case.binding.model, row_id), world)


def row_of(database: Database, case: Case, row_id: int) -> Any:
    with database.sessions() as session:
        return session.get(case.binding.model, row_id)


def event_rows(database: Database) -> list[events.Event]:
    with database.sessions() as session:
        return list(session.scalars(sa.select(events.Event).order_by(events.Event.id)))


def counter(case: Case, resource: Any) -> int | None:
    return getattr(resource, case.binding.counter) if case.binding.counter else None


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(database.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(database.engine, "before_cursor_execute", record)


# --- success, refusal, staleness per binding ---------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_transition_is_one_update_and_one_event(
    database: Database, case: Case, open_sessions: list[Session], statements: list[str]
) -> None:
    loaded = setup_row(database, case, open_sessions)
    resource, b = loaded.resource, case.binding
    before = counter(case, resource)
    statements.clear()

    new = gate.transition(loaded.session, resource, case.event)

    # Nothing read back; a row leaving a transitional state also releases any job's hold on it.
    fsm = b.machine
    leaving = case.start in fsm.transitional and case.target not in fsm.transitional
    leaving = leaving and b not in recovery.UNOWNED
    assert statements == ["UPDATE", "INSERT"] + (["DELETE"] if leaving else [])
    assert new == case.target
    assert getattr(resource, b.state) == case.target
    loaded.session.commit()
    stored = row_of(database, case, resource.id)
    assert getattr(stored, b.state) == case.target
    if b.counter:
        assert before is not None
        assert counter(case, stored) == counter(case, resource) == before + 1
    if b.updated:
        assert getattr(stored, b.updated) is not None
        assert getattr(stored, b.updated) == getattr(resource, b.updated)
    [row] = event_rows(database)
    assert (row.type, row.state, row.level) == (b.event_type, "Completed", "INFO")
    assert (row.resource_id, row.resource_type) == (resource.id, b.resource_type)
    assert (row.user_id, row.account_id, row.domain_id) == (1, 1, 1)
    assert row.description == f"{b.label(resource)} {case.start} -[{case.event}]-> {case.target}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_missing_transition_writes_nothing(
    database: Database, case: Case, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, case, open_sessions)
    resource, b = loaded.resource, case.binding
    before = counter(case, resource)

    with pytest.raises(errors.NoTransition) as caught:
        gate.transition(loaded.session, resource, case.refused)

    assert (caught.value.state, caught.value.event) == (case.start, case.refused)
    assert caught.value.resource == b.label(resource)
    assert str(caught.value) == (
        f"{b.label(resource)} is {case.start}: {case.refused} is not allowed in that state"
    )
    loaded.session.commit()
    stored = row_of(database, case, resource.id)
    assert getattr(stored, b.state) == case.start
    assert counter(case, stored) == before
    assert event_rows(database) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_stale_object_gets_a_conflict_and_writes_nothing(
    database: Database, case: Case, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, case, open_sessions)
    resource, b = loaded.resource, case.binding
    loaded.session.commit()  # end the read so another writer can go (SQLite)
    model = b.model
    # Behind its back: the counter moves (or, without a counter, the state goes and comes back
    # to a different one).
    changed = {b.counter: getattr(model, b.counter) + 1} if b.counter else {b.state: "Degraded"}
    with database.sessions.begin() as other:
        other.execute(sa.update(model).where(model.id == resource.id).values(changed))
    expected_db = row_of(database, case, resource.id)

    with pytest.raises(errors.StateConflict) as caught:
        gate.transition(loaded.session, resource, case.event)

    assert caught.value.expected_state == case.start
    assert caught.value.expected_count == counter(case, resource)
    assert b.label(resource) in str(caught.value)
    loaded.session.commit()
    stored = row_of(database, case, resource.id)
    assert getattr(stored, b.state) == getattr(expected_db, b.state)
    assert counter(case, stored) == counter(case, expected_db)
    assert event_rows(database) == []


# --- details of the gate -----------------------------------------------------------------------

VOLUME_CASE = CASES[1]
VM_CASE = CASES[0]


def test_actor_and_description_go_into_the_event(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VOLUME_CASE, open_sessions)
    actor = gate.Actor(user_id=7, account_id=8, domain_id=9)

    gate.transition(
        loaded.session, loaded.resource, VE.SnapshotRequested, actor=actor, description="daily"
    )

    loaded.session.commit()
    [row] = event_rows(database)
    assert (row.user_id, row.account_id, row.domain_id) == (7, 8, 9)
    assert row.description == (
        f"Volume {loaded.resource.uuid} Ready -[SnapshotRequested]-> Snapshotting: daily"
    )


def test_a_self_transition_moves_the_counter_but_records_no_event(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VOLUME_CASE, open_sessions)
    before = loaded.resource.update_count

    new = gate.transition(loaded.session, loaded.resource, VE.OperationSucceeded)

    assert new == "Ready"
    loaded.session.commit()
    assert row_of(database, VOLUME_CASE, loaded.resource.id).update_count == before + 1
    assert event_rows(database) == []


def test_values_are_written_in_the_same_update(
    database: Database, open_sessions: list[Session], statements: list[str]
) -> None:
    loaded = setup_row(database, VM_CASE, open_sessions)
    vm = loaded.resource
    statements.clear()

    gate.transition(
        loaded.session, vm, machines.VmEvent.StartRequested, values={"host_id": loaded.world.host}
    )

    assert statements == ["UPDATE", "INSERT"]
    assert vm.host_id == loaded.world.host
    loaded.session.commit()
    assert row_of(database, VM_CASE, vm.id).host_id == loaded.world.host


def test_the_vm_host_is_compared_like_cloudstack_does(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VM_CASE, open_sessions)
    vm = loaded.resource
    loaded.session.commit()
    with database.sessions.begin() as other:  # host changed without a transition
        other.execute(
            sa.update(compute.VmInstance)
            .where(compute.VmInstance.id == vm.id)
            .values(host_id=loaded.world.host)
        )

    with pytest.raises(errors.StateConflict):
        gate.transition(loaded.session, vm, machines.VmEvent.StartRequested)


def test_a_sql_value_is_reloaded_from_the_row(
    database: Database, open_sessions: list[Session]
) -> None:
    case = CASES[5]  # host status
    loaded = setup_row(database, case, open_sessions)
    host = loaded.resource

    gate.transition(
        loaded.session,
        host,
        machines.HostStatusEvent.AgentConnected,
        values={"last_ping": infrastructure.Host.last_ping + 5},
    )

    assert host.last_ping == 5


def test_entering_destroyed_marks_a_store_copy_destroyed(
    database: Database, open_sessions: list[Session]
) -> None:
    case = CASES[7]  # template_store_ref Destroying -> Destroyed
    loaded = setup_row(database, case, open_sessions)

    gate.transition(loaded.session, loaded.resource, OE.OperationSuccessed)

    assert loaded.resource.destroyed is True
    loaded.session.commit()
    assert row_of(database, case, loaded.resource.id).destroyed is True


def test_a_fence_that_does_not_hold_is_a_conflict(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VOLUME_CASE, open_sessions)

    with pytest.raises(errors.StateConflict):
        gate.transition(loaded.session, loaded.resource, VE.SnapshotRequested, fence=sa.false())
    assert (
        gate.transition(loaded.session, loaded.resource, VE.SnapshotRequested, fence=sa.true())
        == "Snapshotting"
    )


def test_a_conflict_leaves_the_transaction_usable(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VOLUME_CASE, open_sessions)
    with pytest.raises(errors.StateConflict):
        gate.transition(loaded.session, loaded.resource, VE.SnapshotRequested, fence=sa.false())
    loaded.session.execute(sa.select(1))
    loaded.session.commit()


def test_the_event_type_chooses_the_host_machine(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, CASES[5], open_sessions)
    host = loaded.resource

    gate.transition(loaded.session, host, machines.ResourceStateEvent.InternalCreated)
    gate.transition(loaded.session, host, machines.HostStatusEvent.AgentConnected)

    assert (host.status, host.resource_state, host.update_count) == ("Connecting", "Enabled", 1)
    loaded.session.commit()
    assert [e.type for e in event_rows(database)] == ["HOST.RESOURCESTATE", "HOST.STATUS"]


def test_a_foreign_event_is_not_bound(database: Database, open_sessions: list[Session]) -> None:
    loaded = setup_row(database, VM_CASE, open_sessions)
    with pytest.raises(errors.NotBound, match="VmInstance to VolumeEvent"):
        gate.transition(loaded.session, loaded.resource, VE.SnapshotRequested)


def test_a_state_assigned_by_hand_is_refused(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VOLUME_CASE, open_sessions)
    loaded.resource.state = "Snapshotting"
    with pytest.raises(ValueError, match="assigned directly"):
        gate.transition(loaded.session, loaded.resource, VE.OperationSucceeded)


def test_gate_owned_columns_cannot_be_passed_as_values(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VOLUME_CASE, open_sessions)
    for name in ("state", "update_count", "updated", "no_such_column"):
        with pytest.raises(ValueError, match="cannot be set by a transition"):
            gate.transition(loaded.session, loaded.resource, VE.SnapshotRequested, values={name: 1})


def test_a_new_row_is_flushed_then_moved(database: Database) -> None:
    with database.sessions.begin() as session:
        world = build_world(session)
        volume = _volume(world.account, world.domain, world.zone, world.disk_offering, "Allocated")
        session.add(volume)
        assert gate.transition(session, volume, VE.CreateRequested) == "Creating"
        assert volume.update_count == 1


def test_an_unknown_stored_state_is_reported(
    database: Database, open_sessions: list[Session]
) -> None:
    loaded = setup_row(database, VOLUME_CASE, open_sessions, state="Destroyed")
    with pytest.raises(errors.UnknownState, match="'Destroyed' is not a known Volume state"):
        gate.transition(loaded.session, loaded.resource, VE.RecoverRequested)


# --- the race ----------------------------------------------------------------------------------


def _backend_id(session: Session, backend: str) -> int | None:
    if backend == "postgresql":
        session.execute(sa.text("SET lock_timeout = '15s'"))
        return int(session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
    if backend == "mariadb":
        session.execute(sa.text("SET SESSION innodb_lock_wait_timeout = 15"))
        return int(session.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one())
    return None


_WAITING = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity "
    "WHERE pid = :id AND wait_event_type = 'Lock'",
    "mariadb": "SELECT count(*) FROM information_schema.INNODB_TRX "
    "WHERE trx_mysql_thread_id = :id AND trx_state = 'LOCK WAIT'",
}  # fmt: skip


def _wait_until_blocked(
    database: Database, backend_id: int | None, thread: threading.Thread
) -> None:
    """Return once the second writer waits on the first one's lock (SQLite: cannot be seen)."""
    if backend_id is None:
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    with database.engine.connect() as probe:
        while time.monotonic() < deadline and thread.is_alive():
            found = probe.execute(sa.text(_WAITING[database.backend]), {"id": backend_id})
            if found.scalar_one():
                return
            probe.rollback()
            time.sleep(0.02)
    raise AssertionError("the second writer never waited for the first one's lock")


RACES = [
    (VOLUME_CASE, VE.SnapshotRequested, VE.SnapshotRequested),
    (VM_CASE, machines.VmEvent.StartRequested, machines.VmEvent.DestroyRequested),
]


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("case", "first", "second"), RACES, ids=["volume", "vm"])
def test_two_writers_from_the_same_state_one_wins(
    database: Database,
    case: Case,
    first: enum.StrEnum,
    second: enum.StrEnum,
    open_sessions: list[Session],
) -> None:
    """A moves the row and holds its transaction; B's transition blocks on A's lock; A commits;
    B gets StateConflict. On SQLite B's load must end before A writes (a reader there holds the
    write lock, BEGIN IMMEDIATE), so B waits on A's transaction instead of A's row."""
    loser = setup_row(database, case, open_sessions)
    backend_id = _backend_id(loser.session, database.backend)
    if database.backend == "sqlite":
        loser.session.commit()
    winner = database.sessions()
    open_sessions.append(winner)
    resource = winner.get(case.binding.model, loser.resource.id)
    target = gate.transition(winner, resource, first)

    outcome: list[BaseException | enum.StrEnum] = []

    def second_writer() -> None:
        try:
            outcome.append(gate.transition(loser.session, loser.resource, second))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=second_writer, daemon=True)
    thread.start()
    _wait_until_blocked(database, backend_id, thread)
    assert thread.is_alive(), f"the second writer did not wait: {outcome}"
    winner.commit()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the second writer is still blocked"

    [result] = outcome
    assert isinstance(result, errors.StateConflict), result
    loser.session.rollback()
    stored = row_of(database, case, resource.id)
    assert getattr(stored, case.binding.state) == target
    assert stored.update_count == 1
    [row] = event_rows(database)
    assert row.description.endswith(f"-[{first}]-> {target}")


def test_on_sqlite_a_second_writer_with_a_stale_object_loses(sqlite_database: Database) -> None:
    """Two sessions load the volume; the first moves it and commits; the second loses."""
    database = sqlite_database
    with database.sessions.begin() as session:
        world = build_world(session)
    with database.sessions() as first, database.sessions() as second:
        one = first.get(storage.Volume, world.volume)
        first.commit()
        two = second.get(storage.Volume, world.volume)
        second.commit()
        gate.transition(first, one, VE.SnapshotRequested)
        first.commit()
        with pytest.raises(errors.StateConflict):
            gate.transition(second, two, VE.DestroyRequested)
        second.rollback()
    assert row_of(database, VOLUME_CASE, world.volume).state == "Snapshotting"
    assert len(event_rows(database)) == 1
