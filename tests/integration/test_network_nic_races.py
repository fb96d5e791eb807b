"""Sixty VMs allocating NICs at once on a shared network with fifty addresses, on PostgreSQL
and MariaDB: the database settles it (SQLite's single writer would hide the race)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.db import engine as db_engine
from cirrostack.db.models import network as models
from cirrostack.network import nics
from tests import network_world as world
from tests.cloud import Cloud
from tests.conftest import Database

THREADS = 60


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
