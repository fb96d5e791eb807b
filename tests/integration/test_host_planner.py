"""The host planner over a real database on every backend: decide, place, release.

Hosts and their capacity rows are made by ``tests.host_rows`` (the real capacity writer);
each test names the rule it holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import compute_claims, hosts
from cirrostack.db.models import configuration, infrastructure
from tests import host_rows, rows
from tests.conftest import Database

GIB, MIB = host_rows.GIB, host_rows.MIB
MEMORY, CPU, CORES = 0, 1, 90


@dataclasses.dataclass
class World:
    zone: infrastructure.DataCenter
    pod: infrastructure.HostPod
    cluster: infrastructure.Cluster
    other: infrastructure.Cluster


def world(session: Session, suffix: str = "1") -> World:
    zone, pod, cluster = rows.zone_pod_cluster(session, suffix)
    cluster.hypervisor_type = "KVM"
    other = infrastructure.Cluster(
        name=f"c2-{suffix}", pod_id=pod.id, data_center_id=zone.id, hypervisor_type="KVM"
    )
    session.add(other)
    session.flush()
    return World(zone, pod, cluster, other)


def ask(place: World, **changes: object) -> hosts.HostRequest:
    base = hosts.HostRequest(
        zone_id=place.zone.id, cpus=1, speed=1000, memory=1 * GIB, account_id=1, domain_id=1
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def set_global(session: Session, name: str, value: str) -> None:
    row = session.get(configuration.Configuration, name)
    if row is None:
        session.add(configuration.Configuration(name=name, value=value, instance="DEFAULT"))
    else:
        row.value = value
    session.flush()


def test_place_claims_cpu_memory_and_cores_on_the_host(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        target = host_rows.host(session, place.cluster, name="h1", cpus=4, speed=2000, ram=8 * GIB)
        session.commit()
        placed = hosts.place(session, ask(place, cpus=2, speed=1500, memory=2 * GIB))
        session.commit()
        assert placed.host.id == target.id and not placed.from_reservation
        assert (placed.cluster_id, placed.pod_id) == (place.cluster.id, place.pod.id)
        assert host_rows.amounts(session, target.id) == {
            MEMORY: (2 * GIB, 0, 8 * GIB),
            CPU: (3000, 0, 8000),
            CORES: (2, 0, 4),
        }
        hosts.release(session, target.id, 2, 1500, 2 * GIB)
        session.commit()
        assert host_rows.amounts(session, target.id)[CPU] == (0, 0, 8000)


def test_no_host_answers_the_capacity_error_with_every_verdict(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        host_rows.host(session, place.cluster, name="h1", status="Disconnected")
        full = host_rows.host(session, place.cluster, name="h2", cpus=4, speed=2000)
        host_rows.set_used(session, full.id, CPU, 6500)
        session.commit()
        with pytest.raises(errors.InsufficientCapacity) as raised:
            hosts.place(session, ask(place, cpus=2, speed=1000, vm_id=7))
        text = str(raised.value)
        assert text.startswith("Unable to create a deployment for VM[7]")
        assert "host h1: not Up (Disconnected)" in text
        assert "host h2: 2x1000 MHz asked, 1500 MHz free of 8000" in text
        assert host_rows.amounts(session, full.id)[CPU] == (6500, 0, 8000)


def test_a_refused_claim_leaves_every_row_as_it_was(database: Database) -> None:
    """Memory fits and is raised first; CPU refuses; memory is lowered again in the same
    transaction, so the caller's commit keeps nothing of the failed claim."""
    with database.sessions() as session:
        place = world(session)
        target = host_rows.host(session, place.cluster, name="h1", cpus=4, speed=1000)
        host_rows.set_used(session, target.id, CPU, 3500)
        session.commit()
        before = host_rows.amounts(session, target.id)
        claim = compute_claims.Compute.of(2, 1000, 1 * GIB)
        assert not compute_claims.claim(session, target.id, claim)
        session.commit()
        assert host_rows.amounts(session, target.id) == before


def test_stop_keeps_a_reservation_the_restart_claims_from(database: Database) -> None:
    """Reference 2.6: stop moves used to reserved; a start on the last host moves it back
    (used += VM, reserved -= VM in one UPDATE); destroy drops the reservation."""
    with database.sessions() as session:
        place = world(session)
        last = host_rows.host(session, place.cluster, name="h1", cpus=4, speed=1000, ram=4 * GIB)
        host_rows.host(session, place.cluster, name="h2", cpus=8, speed=1000, ram=16 * GIB)
        session.commit()
        vm = ask(place, cpus=2, speed=1000, memory=2 * GIB, host_id=last.id)
        assert hosts.place(session, vm).host.id == last.id
        hosts.release(session, last.id, 2, 1000, 2 * GIB, to_reserved=True)
        session.commit()
        assert host_rows.amounts(session, last.id)[CPU] == (0, 2000, 4000)
        # The reservation counts against others: 2000 MHz free, 3000 asked -> refused.
        big = ask(place, cpus=3, speed=1000, memory=1 * GIB, host_id=last.id)
        with pytest.raises(errors.InsufficientCapacity, match="2000 MHz free of 4000"):
            hosts.place(session, big)
        again = hosts.place(
            session, ask(place, cpus=2, speed=1000, memory=2 * GIB, last_host_id=last.id)
        )
        session.commit()
        assert again.host.id == last.id and again.from_reservation
        assert host_rows.amounts(session, last.id) == {
            MEMORY: (2 * GIB, 0, 4 * GIB),
            CPU: (2000, 0, 4000),
            CORES: (2, 0, 4),
        }
        hosts.release(session, last.id, 2, 1000, 2 * GIB, to_reserved=True)
        hosts.release_reserved(session, last.id, 2, 1000, 2 * GIB)
        hosts.release_reserved(session, last.id, 2, 1000, 2 * GIB)  # never below 0
        session.commit()
        assert host_rows.amounts(session, last.id) == {
            MEMORY: (0, 0, 4 * GIB),
            CPU: (0, 0, 4000),
            CORES: (0, 0, 4),
        }


def _statements(database: Database, run: Callable[[Session], object]) -> int:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    with database.sessions() as session:
        engine = session.get_bind()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            run(session)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        session.rollback()
    return len(seen)


def test_a_decision_issues_the_same_statements_for_2_or_24_hosts(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        for n in range(2):
            host_rows.host(session, place.cluster, name=f"a{n}", tags=["t"])
        session.commit()
        request = ask(place, host_tags="t")
    few = _statements(database, lambda s: hosts.decide(s, request))
    placed_few = _statements(database, lambda s: hosts.place(s, request))
    with database.sessions() as session:
        for n in range(22):
            cluster = (
                place.other if n % 2 else session.get_one(infrastructure.Cluster, place.cluster.id)
            )
            host_rows.host(session, cluster, name=f"b{n}", tags=["t"] if n % 3 else [])
        session.commit()
    assert _statements(database, lambda s: hosts.decide(s, request)) == few
    assert _statements(database, lambda s: hosts.place(s, request)) == placed_few
