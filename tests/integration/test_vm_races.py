"""Parallel deploys against too little room (PostgreSQL and MariaDB: SQLite's single writer
would hide the race): 40 deploys where 20 fit leave exactly 20 Running, no host over-committed,
nothing left Starting, and the other 20 in Error with their disks gone from the pool."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.agent import qemu_img as qemu
from cirrostack.db import engine as db_engine
from cirrostack.db.models import capacity, compute
from tests import databases
from tests.cloud import Cloud
from tests.databases import Database
from tests.vm_world import World

THREADS = 40
#: Two hosts of 10 cores at 1000 MHz: 20 one-core VMs fit (RAM is plentiful).
_KNOBS = "cpunumber=10&cpuspeed=1000&memory=68719476736"


@pytest.fixture
def crowded(database: Database, qemu_img: qemu.QemuImg) -> Iterator[World]:
    if database.backend == "sqlite":
        pytest.skip("SQLite's single writer hides races: PostgreSQL and MariaDB only")
    engine = db_engine.make_engine(database.url, pool_size=THREADS + 4, max_overflow=0)
    try:
        cloud = Cloud(databases.sessions_for(engine))
        world = World(cloud, qemu_img, hosts=2, knobs=_KNOBS)
        # The cluster may fill up completely (its default threshold stops it at 85%).
        cloud.ok(
            cloud.admin.keys,
            "updateConfiguration",
            name="cluster.cpu.allocated.capacity.disablethreshold",
            value="1",
        )
        yield world
    finally:
        engine.dispose()


def test_forty_parallel_deploys_where_twenty_fit(crowded: World) -> None:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def deploy(index: int) -> None:
        barrier.wait()
        try:
            results[index] = crowded.deploy(name=f"vm-{index}")[1]
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=deploy, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert all(isinstance(result, dict) for result in results), results
    statuses = sorted(result["jobstatus"] for result in results)
    assert statuses == [1] * 20 + [2] * 20, [r.get("jobresult") for r in results]
    with crowded.cloud.sessions() as session:
        states = session.scalars(sa.select(compute.VmInstance.state)).all()
        assert sorted(states) == ["Error"] * 20 + ["Running"] * 20
        rows = session.scalars(sa.select(capacity.HostCapacity).where(
            capacity.HostCapacity.capacity_type == 1)).all()  # fmt: skip
        assert all(row.used_capacity <= row.total_capacity for row in rows)
        assert sum(row.used_capacity for row in rows) == 20 * 1000
    assert len(crowded.pool_files()) == 20  # one root disk per running VM, none left behind
    running = set().union(*(crowded.sim(i).domains.running() for i in range(2)))
    assert len(running) == 20
