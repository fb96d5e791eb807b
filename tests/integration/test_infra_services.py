"""Zone, pod, cluster and host services, the startup exchange and the host monitor, on every
database backend. Simulated hosts run in-process; the monitor's clock is a test clock, so
silence is measured without sleeping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import bootstrap
from cirrostack.agent.backends import simulator
from cirrostack.db.models import capacity as capacity_models
from cirrostack.db.models import events as event_models
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import (
    agents,
    capacity,
    clusters,
    details,
    hosts,
    maintenance,
    monitor,
    pods,
    simulation,
    zones,
)
from cirrostack.protocol import messages
from cirrostack.transport import endpoint
from cirrostack.transport import errors as transport_errors
from tests.conftest import Database

GIB = 1024**3
SIM_URL = "http://sim-1?cpunumber=8&cpuspeed=2400&memory=17179869184"
#: Ping every second, Alert after 2.5 s of silence, Down after 5 s.
TIMINGS = monitor.Timings(1, 2.5, 5)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    database: Database
    session: Session
    clock: Clock
    agents: agents.Agents
    zone: models.DataCenter
    pod: models.HostPod
    cluster: models.Cluster

    def add_host(
        self, url: str = SIM_URL, cluster_name: str | None = None, tags: tuple[str, ...] = ()
    ) -> models.Host:
        cluster_id = None if cluster_name else self.cluster.uuid
        new = hosts.NewHost(url, "Simulator", cluster_id, cluster_name, tags)
        return hosts.add(self.session, self.agents, self.zone, self.pod, new)

    def restart(self) -> agents.Agents:
        """A new management server process: no agent running, no link known."""
        self.agents = agents.Agents.in_process(self.clock)
        return self.agents

    def sweep(self, timings: monitor.Timings = TIMINGS) -> None:
        self.session.commit()
        monitor.sweep(self.database.sessions, self.agents, timings)
        self.session.expire_all()


@pytest.fixture
def world(sqlite_database: Database) -> Iterator[World]:
    """The world on SQLite, for tests whose subject is not the backend."""
    yield from _world(sqlite_database)


@pytest.fixture
def any_world(database: Database) -> Iterator[World]:
    """The world on every backend."""
    yield from _world(database)


def _world(database: Database) -> Iterator[World]:
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        zone = zones.create(
            session, zones.NewZone("z1", "8.8.8.8", "10.0.0.1", "Advanced", dns2="8.8.4.4")
        )
        pod = pods.create(
            session, zone, pods.NewPod("p1", "192.168.1.1", "255.255.255.0", "192.168.1.10")
        )
        cluster = clusters.create(
            session, pod, clusters.NewCluster("c1", "Simulator", "CloudManaged")
        )
        session.commit()
        clock = Clock()
        yield World(database, session, clock, agents.Agents.in_process(clock), zone, pod, cluster)


def _status_events(session: Session, host: models.Host) -> list[str]:
    return list(
        session.scalars(
            sa.select(event_models.Event.description)
            .where(
                event_models.Event.resource_type == "Host",
                event_models.Event.resource_id == host.id,
                event_models.Event.type == "HOST.STATUS",
            )
            .order_by(event_models.Event.id)
        )
    )


def _transitions(session: Session, host: models.Host) -> list[str]:
    """``Old->New`` for each status change of the host, from its event rows, in order.

    A description reads ``Host <uuid> Old -[Event]-> New`` (and ``: reason`` after it).
    """
    found = []
    for text in _status_events(session, host):
        words = text.split(": ")[0].split(" ")
        found.append(f"{words[-3]}->{words[-1]}")
    return found


# --- zones, pods, clusters -------------------------------------------------------------------


def test_names_are_unique_where_cloudstack_makes_them_unique(world: World) -> None:
    session = world.session
    with pytest.raises(errors.InvalidParameterValue, match="zone with name z1 already exists"):
        zones.create(session, zones.NewZone("z1", "8.8.8.8", "10.0.0.1", "Basic"))
    with pytest.raises(errors.InvalidParameterValue, match="pod with name p1 already exists"):
        pods.create(session, world.zone, pods.NewPod("p1", "10.9.0.1", "255.255.0.0", "10.9.0.5"))
    with pytest.raises(errors.InvalidParameterValue, match="overlaps the network"):
        pods.create(
            session,
            world.zone,
            pods.NewPod("p2", "192.168.1.129", "255.255.255.128", "192.168.1.130"),
        )
    with pytest.raises(errors.InvalidParameterValue, match="overlaps the guest CIDR"):
        pods.create(session, world.zone, pods.NewPod("p2", "10.1.1.1", "255.255.255.0", "10.1.1.5"))
    with pytest.raises(errors.InvalidParameterValue, match="cluster with name c1 already"):
        clusters.create(session, world.pod, clusters.NewCluster("c1", "KVM", "CloudManaged"))
    other = zones.create(session, zones.NewZone("z2", "8.8.8.8", "10.0.0.1", "basic"))
    same_name = pods.create(
        session, other, pods.NewPod("p1", "10.9.0.1", "255.255.0.0", "10.9.0.5")
    )
    assert (other.networktype, other.guest_network_cidr, same_name.name) == ("Basic", None, "p1")


def test_a_zone_checks_its_values_and_applies_updates(world: World) -> None:
    session = world.session
    for wrong, message in (
        (zones.NewZone("z9", "8.8.8", "10.0.0.1", "Advanced"), "Invalid dns1"),
        (zones.NewZone("z9", "8.8.8.8", "10.0.0.1", "Hybrid"), "Invalid networktype"),
        (zones.NewZone("z9", "8.8.8.8", "10.0.0.1", "Basic", domain="a..b"), "network domain"),
        (zones.NewZone(" ", "8.8.8.8", "10.0.0.1", "Basic"), "cannot be blank"),
    ):
        with pytest.raises(errors.InvalidParameterValue, match=message):
            zones.create(session, wrong)
    zone = zones.update(
        session,
        world.zone,
        zones.ZoneChanges(
            name="z1-renamed",
            dns1="1.1.1.1",
            allocation_state="disabled",
            guest_cidr="10.2.0.0/16",
            details={"owner": "ops"},
        ),
    )
    assert (zone.name, zone.dns1, zone.allocation_state) == ("z1-renamed", "1.1.1.1", "Disabled")
    assert zones.details(session, zone) == {"owner": "ops"}
    assert zone.zone_token and len(zone.zone_token) == 36


def test_a_cluster_gets_its_overcommit_ratios_and_keeps_its_hypervisor(world: World) -> None:
    assert clusters.detail_values(world.session, world.cluster) == {
        "cpuOvercommitRatio": "1.0",
        "memoryOvercommitRatio": "1.0",
    }
    assert clusters.overcommit(world.session, world.cluster.id) == clusters.Overcommit(1.0, 1.0)
    world.add_host()
    with pytest.raises(errors.ResourceInUse, match="cannot change: it has 1 host"):
        clusters.update(world.session, world.cluster, clusters.ClusterChanges(hypervisor="KVM"))
    updated = clusters.update(
        world.session,
        world.cluster,
        clusters.ClusterChanges(cluster_type="externalmanaged", managed_state="Unmanaged"),
    )
    assert (updated.cluster_type, updated.managed_state) == ("ExternalManaged", "Unmanaged")


def test_levels_are_deleted_empty_and_free_their_names(any_world: World) -> None:
    world, session = any_world, any_world.session
    host = world.add_host()
    with pytest.raises(errors.ResourceInUse, match=r"zone z1 .* has pods: p1"):
        zones.delete(session, world.zone)
    with pytest.raises(errors.ResourceInUse, match=r"pod p1 .* has clusters: c1"):
        pods.delete(session, world.pod)
    with pytest.raises(errors.ResourceInUse, match=rf"cluster c1 .* has hosts: {host.name}"):
        clusters.delete(session, world.cluster)
    hosts.delete(session, world.agents, host, forced=True)
    clusters.delete(session, world.cluster)
    again = clusters.create(session, world.pod, clusters.NewCluster("c1", "KVM", "CloudManaged"))
    clusters.delete(session, again)
    pods.delete(session, world.pod)
    zones.delete(session, world.zone)
    session.commit()
    zone = zones.create(session, zones.NewZone("z1", "8.8.8.8", "10.0.0.1", "Advanced"))
    pod = pods.create(
        session, zone, pods.NewPod("p1", "192.168.1.1", "255.255.255.0", "192.168.1.10")
    )
    clusters.create(session, pod, clusters.NewCluster("c1", "Simulator", "CloudManaged"))
    session.commit()
    assert world.cluster.removed is not None
    assert world.cluster.name == f"c1-removed-{world.cluster.id}"


# --- hosts -----------------------------------------------------------------------------------


def test_a_simulated_host_connects_up_with_its_resources_and_capacity(any_world: World) -> None:
    world = any_world
    session = world.session
    host = world.add_host()
    session.commit()
    assert (host.status, host.resource_state, host.type) == ("Up", "Enabled", "Routing")
    assert (host.cpus, host.speed, host.ram, host.total_size) == (8, 2400, 16 * GIB, 100 * GIB)
    # Named as CloudStack's simulator names its hosts.
    assert (host.name, host.private_ip_address, host.private_netmask) == (
        f"SimulatedAgent.{host.guid}",
        "192.168.1.10",
        "255.255.255.0",
    )
    assert host.last_ping > 0 and host.version and host.guid
    assert _transitions(session, host) == ["Creating->Connecting", "Connecting->Up"]
    rows = {
        row.capacity_type: row
        for row in session.scalars(
            sa.select(capacity_models.HostCapacity).where(
                capacity_models.HostCapacity.host_id == host.id
            )
        )
    }
    totals = {kind: row.total_capacity for kind, row in rows.items()}
    assert totals == {0: 16 * GIB, 1: 8 * 2400, 90: 8}
    assert {(row.used_capacity, row.capacity_state) for row in rows.values()} == {(0, "Enabled")}
    assert rows[1].cluster_id == world.cluster.id and rows[1].pod_id == world.pod.id
    assert details.of_host(session, host.id)["simulator.cpunumber"] == "8"


def test_hosts_get_the_next_free_address_or_their_own(world: World) -> None:
    first = world.add_host("http://sim-a")
    second = world.add_host("http://sim-b")
    third = world.add_host("sim-c.example.org?memory=4294967296")
    literal = world.add_host("http://192.168.1.200")
    assert [h.private_ip_address for h in (first, second, third, literal)] == [
        "192.168.1.10",
        "192.168.1.11",
        "192.168.1.12",
        "192.168.1.200",
    ]
    assert (third.url, third.ram) == ("sim-c.example.org?memory=4294967296", 4 * GIB)
    with pytest.raises(errors.InvalidParameterValue, match="taken by another host"):
        world.add_host("http://192.168.1.10")


def test_a_new_host_is_checked_before_anything_is_written(world: World) -> None:
    session = world.session
    world.add_host()
    for url, hypervisor, error, message in (
        ("http://sim-2?cpus=8", "Simulator", errors.InvalidParameterValue, "unknown simulator"),
        ("ftp://sim-2", "Simulator", errors.InvalidParameterValue, "Invalid url"),
        ("http://sim 2", "Simulator", errors.InvalidParameterValue, "Invalid url"),
        ("http://sim-2", "XenServer", errors.InvalidParameterValue, "Invalid hypervisor"),
        ("http://sim-2", "KVM", errors.ResourceUnavailable, "need the cirrostack agent"),
    ):
        new = hosts.NewHost(url=url, hypervisor=hypervisor, cluster_id=world.cluster.uuid)
        with pytest.raises(error, match=message):
            hosts.add(session, world.agents, world.zone, world.pod, new)
    kvm = clusters.create(session, world.pod, clusters.NewCluster("k1", "KVM", "CloudManaged"))
    with pytest.raises(errors.InvalidParameterValue, match="is a KVM cluster"):
        hosts.add(
            session,
            world.agents,
            world.zone,
            world.pod,
            hosts.NewHost("http://sim-2", "Simulator", cluster_id=kvm.uuid),
        )
    with pytest.raises(errors.InvalidParameterValue, match="Either clusterid or clustername"):
        hosts.add(
            session, world.agents, world.zone, world.pod, hosts.NewHost("http://x", "Simulator")
        )


def test_a_cluster_name_makes_the_cluster_when_it_is_new(world: World) -> None:
    host = world.add_host("http://sim-2", cluster_name="fresh", tags=("ssd", "ssd", "gpu"))
    cluster = world.session.get_one(models.Cluster, host.cluster_id)
    assert (cluster.name, cluster.hypervisor_type) == ("fresh", "Simulator")
    assert details.tags(world.session, host.id) == ["ssd", "gpu"]
    again = world.add_host("http://sim-3", cluster_name="fresh")
    assert again.cluster_id == cluster.id


class _Unreachable:
    def send(
        self, to: endpoint.Endpoint, command: messages.Command, progress: object = None
    ) -> messages.Answer:
        raise transport_errors.AgentUnavailable(f"{to} does not answer")

    def cancel(self, to: endpoint.Endpoint, command_id: str) -> bool:
        raise transport_errors.AgentUnavailable(f"{to} does not answer")


def test_a_host_whose_agent_does_not_start_is_not_added(world: World) -> None:
    world.agents = agents.Agents(_Unreachable(), simulator.Fleet(), world.clock)
    with pytest.raises(errors.ResourceUnavailable, match="Unable to add the host SimulatedAgent"):
        world.add_host()
    world.session.rollback()
    assert world.session.scalars(sa.select(models.Host)).all() == []
    assert world.agents.fleet.get("anything") is None


def test_maintenance_tells_the_agent_and_disables_capacity(world: World) -> None:
    session = world.session
    host = world.add_host()
    assert host.guid is not None
    maintenance.prepare_maintenance(session, world.agents, host)
    assert host.resource_state == "Maintenance"
    simulated = world.agents.fleet.get(host.guid)
    assert simulated is not None and simulated.seen["MaintainCommand"] == 1
    states = set(
        session.scalars(
            sa.select(capacity_models.HostCapacity.capacity_state).where(
                capacity_models.HostCapacity.host_id == host.id
            )
        )
    )
    assert states == {"Disabled"}
    maintenance.cancel_maintenance(session, host)
    assert host.resource_state == "Enabled"
    assert capacity.of_host(session, host.id)[capacity.CapacityType.CPU_CORE].total == 8


def test_a_refused_maintenance_changes_nothing_for_the_job_to_roll_back(world: World) -> None:
    host = world.add_host()
    assert host.guid is not None
    simulated = world.agents.fleet.get(host.guid)
    assert simulated is not None
    simulated.fail("MaintainCommand")
    maintenance.ask_maintenance(world.session, host)
    with pytest.raises(errors.ResourceUnavailable, match="did not accept maintenance"):
        maintenance.enter_maintenance(world.session, world.agents, host)
    assert host.resource_state == "PrepareForMaintenance"


def test_deleting_a_host_needs_maintenance_or_disabled_unless_forced(world: World) -> None:
    session = world.session
    host = world.add_host()
    other = world.add_host("http://sim-2")
    with pytest.raises(errors.ResourceUnavailable, match="while it is Enabled"):
        hosts.delete(session, world.agents, host)
    hosts.update(session, host, hosts.HostChanges(allocation_state="Disable"))
    hosts.delete(session, world.agents, host)
    hosts.delete(session, world.agents, other, forced=True)
    session.commit()
    for gone in (host, other):
        assert (gone.status, gone.resource_state) == ("Removed", "Disabled")
        assert gone.removed is not None
        assert capacity.of_host(session, gone.id) == {}
        assert details.of_host(session, gone.id) == {}
        assert gone.guid is not None and world.agents.fleet.get(gone.guid) is None
    clusters.delete(session, world.cluster)


def test_update_renames_retags_and_enables(world: World) -> None:
    session = world.session
    host = world.add_host()
    hosts.update(
        session,
        host,
        hosts.HostChanges(name="sim-one", host_tags=["a", "b"], allocation_state="disable"),
    )
    assert (host.name, host.resource_state) == ("sim-one", "Disabled")
    assert details.tags(session, host.id) == ["a", "b"]
    assert capacity.of_host(session, host.id)[capacity.CapacityType.MEMORY].total == 16 * GIB
    with pytest.raises(errors.InvalidParameterValue, match="must be Enable or Disable"):
        hosts.update(session, host, hosts.HostChanges(allocation_state="Maintenance"))
    hosts.update(session, host, hosts.HostChanges(allocation_state="Enable", host_tags=[]))
    assert host.resource_state == "Enabled" and details.tags(session, host.id) == []


def test_cpu_capacity_applies_the_cluster_overcommit_ratio(world: World) -> None:
    session = world.session
    detail = session.scalars(
        sa.select(models.ClusterDetail).where(
            models.ClusterDetail.cluster_id == world.cluster.id,
            models.ClusterDetail.name == "cpuOvercommitRatio",
        )
    ).one()
    detail.value = "2.0"
    host = world.add_host()
    figures = capacity.of_host(session, host.id)
    assert figures[capacity.CapacityType.CPU].total == 2 * 8 * 2400
    assert figures[capacity.CapacityType.MEMORY].total == 16 * GIB


# --- the monitor -----------------------------------------------------------------------------


def test_pings_keep_a_host_up_and_silence_makes_it_alert_then_down(any_world: World) -> None:
    world = any_world
    session = world.session
    host = world.add_host()
    assert host.guid is not None
    world.sweep()
    simulated = world.agents.fleet.get(host.guid)
    assert simulated is not None and simulated.seen["PingCommand"] == 1
    world.agents.fleet.silence(host.guid)
    world.clock.advance(2)
    world.sweep()
    assert session.get_one(models.Host, host.id).status == "Up"  # 2 s < timeout 2.5 s
    world.clock.advance(1)
    world.sweep()
    assert session.get_one(models.Host, host.id).status == "Alert"
    assert session.get_one(models.Host, host.id).disconnected is not None
    world.clock.advance(1)
    world.sweep()
    assert session.get_one(models.Host, host.id).status == "Alert"  # 4 s < Down at 5 s
    world.clock.advance(1.5)
    world.sweep()
    assert session.get_one(models.Host, host.id).status == "Down"
    world.agents.fleet.resume(host.guid)
    world.sweep()
    assert _transitions(session, host) == [
        "Creating->Connecting",
        "Connecting->Up",
        "Up->Alert",
        "Alert->Down",
        "Down->Connecting",
        "Connecting->Up",
    ]


def test_hosts_come_back_up_after_a_restart_from_their_stored_knobs(any_world: World) -> None:
    world = any_world
    session = world.session
    first = world.add_host()
    second = world.add_host("http://sim-2?cpunumber=2")
    world.restart()
    world.sweep()
    for host in (first, second):
        fresh = session.get_one(models.Host, host.id)
        assert fresh.status == "Up"
        assert _transitions(session, fresh)[-2:] == ["Up->Connecting", "Connecting->Up"]
    assert session.get_one(models.Host, second.id).cpus == 2
    assert second.guid is not None
    rebuilt = world.agents.fleet.get(second.guid)
    assert rebuilt is not None and rebuilt.spec.knobs.cpus == 2


def test_a_host_failing_its_ready_step_goes_alert(world: World) -> None:
    session = world.session
    host = world.add_host()
    fresh = world.restart()
    agents.boot(session, fresh, host)
    assert host.guid is not None
    booted = fresh.fleet.get(host.guid)
    assert isinstance(booted, simulator.SimulatedHost)
    booted.fail("ReadyCommand", times=1)
    world.sweep()
    assert session.get_one(models.Host, host.id).status == "Alert"
    world.sweep()
    assert session.get_one(models.Host, host.id).status == "Up"


def test_configure_simulator_makes_pings_fail_until_told_otherwise(world: World) -> None:
    session = world.session
    host = world.add_host()
    other = world.add_host("http://sim-2")
    scope = simulation.Scope(host_id=host.id)
    assert simulation.configure(session, world.agents, scope, "pingcommand", "result:fail") == 1
    for name in ("StartupRoutingCommand", "PingCommand"):
        simulation.configure(session, world.agents, scope, name, "result:fail")
    world.clock.advance(3)
    world.sweep()
    statuses = dict(session.execute(sa.select(models.Host.name, models.Host.status)).all())
    assert statuses == {host.name: "Alert", other.name: "Up"}
    for name in ("StartupRoutingCommand", "PingCommand"):
        simulation.configure(session, world.agents, scope, name, "result:success")
    world.sweep()
    assert session.get_one(models.Host, host.id).status == "Up"
    zone_wide = simulation.Scope(zone_id=world.zone.id)
    assert (
        simulation.configure(session, world.agents, zone_wide, "PingCommand", "RESULT:FAIL", 1) == 2
    )
    with pytest.raises(errors.InvalidParameterValue, match="the simulator answers"):
        simulation.configure(session, world.agents, scope, "RebootCommand", "result:fail")
    with pytest.raises(errors.InvalidParameterValue, match="use result:fail"):
        simulation.configure(session, world.agents, scope, "PingCommand", "wait:10")
    with pytest.raises(errors.InvalidParameterValue, match="No simulated host"):
        simulation.configure(
            session, world.agents, simulation.Scope(host_id=-1), "PingCommand", "result:fail"
        )


def test_the_monitor_service_starts_pings_and_stops(world: World) -> None:
    host = world.add_host()
    world.session.commit()
    assert host.guid is not None
    service = monitor.HostMonitor(
        world.database.sessions, world.agents, monitor.Timings(0.05, 1, 2)
    )
    service.start()
    try:
        simulated = world.agents.fleet.get(host.guid)
        assert simulated is not None
        for _ in range(200):
            if simulated.seen["PingCommand"] >= 2:
                break
            time.sleep(0.01)
        assert simulated.seen["PingCommand"] >= 2
    finally:
        service.stop()
    with pytest.raises(ValueError, match="interval <= timeout"):
        monitor.Timings(5, 1, 10)
