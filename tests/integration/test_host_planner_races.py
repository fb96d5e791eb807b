"""Parallel placements never over-commit a host (PostgreSQL and MariaDB).

Five hosts with memory for exactly ten 1 GiB VMs each (50 in all, CPU to spare) and 100
placements, each in its own thread, session and connection, released together by a barrier.
Each runs as commands do, in ``db.transactions.run`` (a deadlock or serialisation loss is run
again). Exactly 50 win; the other 50 get the capacity error with the verdicts; no host's used
memory passes its total, and used equals what the winners claimed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.allocators import hosts
from cirrostack.db import engine as db_engine
from cirrostack.db import transactions
from tests import host_rows
from tests.conftest import Database
from tests.integration import test_host_planner as planner

GIB = host_rows.GIB
HOSTS, PER_HOST, RACERS = 5, 10, 100


@pytest.fixture
def racing(database: Database) -> Iterator[tuple[sessionmaker[Session], planner.World, list[int]]]:
    if database.backend == "sqlite":
        pytest.skip("the race needs a server database (SQLite serialises its writers)")
    with database.sessions() as session:
        place = planner.world(session)
        for name in ("cluster.memory.allocated.capacity.disablethreshold",
                     "cluster.cpu.allocated.capacity.disablethreshold"):  # fmt: skip
            planner.set_global(session, name, "1.0")
        made = [
            host_rows.host(
                session, place.cluster, name=f"h{n}", cpus=64, speed=3000, ram=PER_HOST * GIB
            )
            for n in range(HOSTS)
        ]
        session.commit()
        ids = [row.id for row in made]
        session.expunge_all()
    engine = db_engine.make_engine(database.url, pool_size=30, max_overflow=0, pool_timeout=120)
    try:
        yield db_engine.make_sessionmaker(engine), place, ids
    finally:
        engine.dispose()


def test_parallel_placements_never_over_commit_a_host(
    racing: tuple[sessionmaker[Session], planner.World, list[int]],
) -> None:
    sessions, place, ids = racing
    request = planner.ask(place, cpus=1, speed=1000, memory=1 * GIB)
    barrier = threading.Barrier(RACERS)
    won: list[int] = []
    refused: list[BaseException] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def placed(session: Session) -> int:
        return hosts.place(session, request).host.id

    def run() -> None:
        barrier.wait(timeout=60)
        try:
            host_id = transactions.run(sessions, placed, name="race")
            with lock:
                won.append(host_id)
        except errors.InsufficientCapacity as exc:
            with lock:
                refused.append(exc)
        except Exception as exc:  # every outcome is examined below
            with lock:
                failed.append(exc)

    workers = [threading.Thread(target=run) for _ in range(RACERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    assert not failed, failed[:3]
    assert len(won) == HOSTS * PER_HOST and len(refused) == RACERS - HOSTS * PER_HOST
    assert all("Unable to create a deployment" in str(exc) for exc in refused)
    assert all("memory" in str(exc) or "parallel" in str(exc) for exc in refused)
    per_host = Counter(won)
    with sessions() as session:
        for host_id in ids:
            used, reserved, total = host_rows.amounts(session, host_id)[planner.MEMORY]
            assert used == per_host[host_id] * GIB <= total and reserved == 0
        cores = session.scalar(
            sa.text("SELECT SUM(used_capacity) FROM op_host_capacity WHERE capacity_type = 90")
        )
        assert int(cores) == HOSTS * PER_HOST
