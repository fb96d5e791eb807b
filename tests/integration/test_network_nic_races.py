"""Races the database settles, on PostgreSQL and MariaDB (SQLite's single writer would hide
them): sixty VMs allocating NICs at once on a shared network with fifty addresses, twelve on
an isolated /29 with five, and eight networks implemented at once on a range of four VLANs."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.db import engine as db_engine
from cirrostack.db.models import network as models
from cirrostack.network import implement, networks, nics
from cirrostack.states import gate
from tests import network_world as world
from tests.cloud import Cloud
from tests.conftest import Database

THREADS = 60
SOURCE_NAT = "DefaultIsolatedNetworkOfferingWithSourceNatService"


def test_sixty_allocations_for_fifty_addresses(database: Database) -> None:
    if database.backend == "sqlite":
        pytest.skip("the race needs concurrent writers: PostgreSQL and MariaDB")
    cloud = Cloud(database.sessions)
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    world.service_offering(cloud)
    created = world.shared_network(
        cloud, zone, gateway="10.9.0.1", netmask="255.255.255.192",
        startip="10.9.0.2", endip="10.9.0.51",
    )  # fmt: skip
    with database.sessions() as session:
        network_id = session.scalars(
            sa.select(models.Network.id).where(models.Network.uuid == created["id"])
        ).one()
        vms = world.vm_rows(session, zone, 2, THREADS)
        session.commit()
    engine = db_engine.make_engine(database.url, pool_size=THREADS + 2, max_overflow=0)
    sessions = db_engine.make_sessionmaker(engine)
    barrier = threading.Barrier(THREADS)
    outcomes: list[BaseException | None] = [None] * THREADS

    def run(index: int) -> None:
        with sessions() as session:
            network = session.get_one(models.Network, network_id)
            session.commit()
            barrier.wait(timeout=60)
            try:
                nics.allocate(session, vm_id=vms[index], vm_type="User", network=network,
                              device_id=0, default=True)  # fmt: skip
                session.commit()
            except Exception as exc:  # every outcome is examined below
                session.rollback()
                outcomes[index] = exc

    try:
        workers = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=180)
    finally:
        engine.dispose()
    failures = [error for error in outcomes if error is not None]
    assert len(failures) == THREADS - 50, failures
    assert all(isinstance(error, errors.InsufficientCapacity) for error in failures), failures
    assert all("Insufficient address capacity" in str(error) for error in failures)
    with database.sessions() as session:
        made = session.scalars(
            sa.select(models.Nic).where(
                models.Nic.network_id == network_id, models.Nic.removed.is_(None)
            )
        ).all()
        assert len(made) == 50
        assert len({nic.ip4_address for nic in made}) == 50
        assert len({nic.mac_address for nic in made}) == 50
        allocated = session.scalars(
            sa.select(models.UserIpAddress.public_ip_address).where(
                models.UserIpAddress.source_network_id == network_id,
                models.UserIpAddress.state == "Allocated",
            )
        ).all()
        assert sorted(allocated) == sorted(nic.ip4_address for nic in made)


def _in_threads(count: int, action: Callable[[int], None]) -> list[BaseException | None]:
    barrier = threading.Barrier(count)
    outcomes: list[BaseException | None] = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=60)
        try:
            action(index)
        except Exception as exc:  # every outcome is examined by the caller
            outcomes[index] = exc

    workers = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    return outcomes


def test_parallel_allocations_on_an_isolated_cidr(database: Database) -> None:
    if database.backend == "sqlite":
        pytest.skip("the race needs concurrent writers: PostgreSQL and MariaDB")
    cloud = Cloud(database.sessions)
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    world.service_offering(cloud)
    created = cloud.ok(
        cloud.admin.keys, "createNetwork", name="iso", zoneid=zone, gateway="192.168.9.1",
        netmask="255.255.255.248",
        networkofferingid=world.offering_id(cloud, SOURCE_NAT),
    )["network"]  # fmt: skip
    threads = 12
    with database.sessions() as session:
        network_id = session.scalars(
            sa.select(models.Network.id).where(models.Network.uuid == created["id"])
        ).one()
        vms = world.vm_rows(session, zone, 2, threads)
        session.commit()
    engine = db_engine.make_engine(database.url, pool_size=threads + 2, max_overflow=0)
    sessions = db_engine.make_sessionmaker(engine)

    def allocate(index: int) -> None:
        with sessions() as session:
            network = session.get_one(models.Network, network_id)
            nics.allocate(session, vm_id=vms[index], vm_type="User", network=network,
                          device_id=0, default=True)  # fmt: skip
            session.commit()

    try:
        outcomes = _in_threads(threads, allocate)
    finally:
        engine.dispose()
    failures = [error for error in outcomes if error is not None]
    assert len(failures) == threads - 5, failures
    assert all(isinstance(error, errors.InsufficientCapacity) for error in failures), failures
    with database.sessions() as session:
        addresses = session.scalars(
            sa.select(models.Nic.ip4_address).where(models.Nic.network_id == network_id)
        ).all()
        assert sorted(addresses) == [f"192.168.9.{n}" for n in range(2, 7)]


def test_parallel_implements_take_distinct_vlans(database: Database) -> None:
    if database.backend == "sqlite":
        pytest.skip("the race needs concurrent writers: PostgreSQL and MariaDB")
    cloud = Cloud(database.sessions)
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone, vlan="800-803")
    threads = 8
    offering = world.offering_id(cloud, "DefaultL2NetworkOffering")
    made = [
        cloud.ok(cloud.admin.keys, "createNetwork", name=f"l2-{n}", zoneid=zone,
                 networkofferingid=offering)["network"]["id"]
        for n in range(threads)
    ]  # fmt: skip
    engine = db_engine.make_engine(database.url, pool_size=threads + 2, max_overflow=0)
    sessions = db_engine.make_sessionmaker(engine)

    def implement_one(index: int) -> None:
        with sessions() as session:
            network = session.scalars(
                sa.select(models.Network).where(models.Network.uuid == made[index])
            ).one()
            implement.implement(session, network, gate.SYSTEM)
            session.commit()

    try:
        outcomes = _in_threads(threads, implement_one)
    finally:
        engine.dispose()
    failures = [error for error in outcomes if error is not None]
    assert len(failures) == threads - 4, [str(f) for f in failures]
    assert all(isinstance(error, errors.InsufficientCapacity) for error in failures), [
        str(f) for f in failures
    ]
    with database.sessions() as session:
        uris = session.scalars(
            sa.select(models.Network.broadcast_uri).where(models.Network.state == "Implemented")
        ).all()
        assert sorted(uris) == [f"vlan://{n}" for n in range(800, 804)]


def test_delete_racing_allocations_leaves_no_nic_on_a_removed_network(
    database: Database,
) -> None:
    if database.backend == "sqlite":
        pytest.skip("the race needs concurrent writers: PostgreSQL and MariaDB")
    cloud = Cloud(database.sessions)
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    world.service_offering(cloud)
    created = world.shared_network(cloud, zone)
    threads = 10
    with database.sessions() as session:
        network_id = session.scalars(
            sa.select(models.Network.id).where(models.Network.uuid == created["id"])
        ).one()
        vms = world.vm_rows(session, zone, 2, threads)
        session.commit()
    engine = db_engine.make_engine(database.url, pool_size=threads + 2, max_overflow=0)
    sessions = db_engine.make_sessionmaker(engine)

    def act(index: int) -> None:
        with sessions() as session:
            network = session.get_one(models.Network, network_id)
            if index == 0:
                networks.delete(session, network, gate.SYSTEM)
            else:
                nics.allocate(session, vm_id=vms[index], vm_type="User", network=network,
                              device_id=0, default=True)  # fmt: skip
            session.commit()

    try:
        outcomes = _in_threads(threads, act)
    finally:
        engine.dispose()
    allowed = (errors.ResourceInUse, errors.InvalidParameterValue)
    assert all(e is None or isinstance(e, allowed) for e in outcomes), outcomes
    with database.sessions() as session:
        network = session.get_one(models.Network, network_id)
        live = session.scalars(
            sa.select(models.Nic.id).where(
                models.Nic.network_id == network_id, models.Nic.removed.is_(None)
            )
        ).all()
        if network.removed is not None:
            assert live == [] and outcomes[0] is None
        else:
            assert isinstance(outcomes[0], errors.ResourceInUse) and live
