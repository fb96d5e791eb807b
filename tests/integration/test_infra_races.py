"""Races left open after issue 6: host names and addresses, scoped settings (every backend).

Each thread has its own session and connection and waits at a barrier, so the requests really
overlap on PostgreSQL and MariaDB (SQLite serialises them on its write lock, and must be right
all the same). Before the fixes, updateHost checked the name in Python (parallel renames made
several hosts of one name in a zone), parallel addHosts in one pod picked the same first free
address, and parallel updateConfiguration at one zone left several override rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.config import store
from cirrostack.config.definitions import Scope
from cirrostack.db import engine as db_engine
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import hosts
from tests import rows
from tests.conftest import Database
from tests.integration.test_integrity_races import Outcome, refused

THREADS = 12

Action = Callable[[Session, int], object]


@dataclass(frozen=True)
class Place:
    zone_id: int
    pod_id: int
    cluster_uuid: str


@pytest.fixture
def racing(database: Database) -> Iterator[tuple[sessionmaker[Session], Place]]:
    """A zone, pod (10.0.0.0/24) and Simulator cluster; a pool with a connection per thread."""
    with database.sessions() as session:
        zone, pod, cluster = rows.zone_pod_cluster(session)
        cluster.hypervisor_type = "Simulator"
        pod.description = "10.0.0.10-10.0.0.200"  # the host range (the gateway is outside)
        session.commit()
        place = Place(zone.id, pod.id, cluster.uuid)
    engine = db_engine.make_engine(database.url, pool_size=THREADS + 2, max_overflow=0)
    try:
        yield db_engine.make_sessionmaker(engine), place
    finally:
        engine.dispose()


def race(sessions: sessionmaker[Session], action: Action) -> list[Outcome]:
    """Run ``action`` in THREADS threads released together, each committing its work."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[Outcome] = [Outcome()] * THREADS

    def run(index: int) -> None:
        with sessions() as session:
            barrier.wait(timeout=60)
            try:
                result = action(session, index)
                session.commit()
                outcomes[index] = Outcome(result=result)
            except Exception as exc:  # every outcome is examined by the test
                session.rollback()
                outcomes[index] = Outcome(error=exc)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return outcomes


def _insert(session: Session, place: Place, url: str) -> models.Host:
    zone = session.get_one(models.DataCenter, place.zone_id)
    pod = session.get_one(models.HostPod, place.pod_id)
    new = hosts.NewHost(url=url, hypervisor="Simulator", cluster_id=place.cluster_uuid)
    return hosts.insert(session, zone, pod, new)


def _live_hosts(sessions: sessionmaker[Session]) -> list[models.Host]:
    with sessions() as session:
        return list(session.scalars(sa.select(models.Host).where(models.Host.removed.is_(None))))


def test_parallel_renames_to_one_name_leave_one_host_of_that_name(
    racing: tuple[sessionmaker[Session], Place],
) -> None:
    sessions, place = racing
    with sessions() as session:
        ids = [_insert(session, place, f"http://sim/c0/h{n}").id for n in range(THREADS)]
        session.commit()

    def rename(session: Session, index: int) -> object:
        host = session.get_one(models.Host, ids[index])
        return hosts.update(session, host, hosts.HostChanges(name=f"Shared-{'H' * (index % 2)}h"))

    outcomes = race(sessions, rename)
    wanted = {"shared-h", "shared-hh"}  # two names, each in two cases
    named = [h.name for h in _live_hosts(sessions) if h.name.lower() in wanted]
    assert sorted(name.lower() for name in named) == sorted(wanted), named
    losers = refused(outcomes)
    assert len(losers) == THREADS - 2
    assert all(
        text.startswith("A host with name Shared-")
        and text.endswith("already exists in zone zone1")
        for text in losers
    ), losers


@pytest.mark.parametrize("same_url", [True, False], ids=["same-url", "urls-of-one-machine"])
def test_parallel_adds_in_one_pod_get_distinct_addresses(
    racing: tuple[sessionmaker[Session], Place], same_url: bool
) -> None:
    sessions, place = racing

    def add(session: Session, index: int) -> object:
        url = "http://sim/c0/h0" if same_url else f"http://sim/c0/h{index}"
        return _insert(session, place, url).private_ip_address

    outcomes = race(sessions, add)
    assert refused(outcomes) == []
    addresses = [h.private_ip_address for h in _live_hosts(sessions)]
    assert len(addresses) == THREADS
    assert len(set(addresses)) == THREADS, sorted(addresses)


def test_parallel_adds_naming_one_address_leave_one_winner(
    racing: tuple[sessionmaker[Session], Place],
) -> None:
    sessions, place = racing
    outcomes = race(sessions, lambda session, _index: _insert(session, place, "http://10.0.0.50"))
    losers = refused(outcomes)
    assert [h.private_ip_address for h in _live_hosts(sessions)] == ["10.0.0.50"]
    assert len(losers) == THREADS - 1
    assert set(losers) == {
        "The address 10.0.0.50 is outside pod pod1's network 10.0.0.0/24 or taken by another host"
    }


def test_parallel_scoped_writes_leave_one_override(
    racing: tuple[sessionmaker[Session], Place],
) -> None:
    sessions, place = racing
    where = store.Place(Scope.ZONE, place.zone_id)

    def write(session: Session, index: int) -> object:
        store.write_scoped(session, where, "use.external.dns", "true" if index % 2 else "false")
        return None

    assert refused(race(sessions, write)) == []
    with sessions() as session:
        overrides = session.scalars(
            sa.select(models.DataCenterDetail.value).where(
                models.DataCenterDetail.dc_id == place.zone_id,
                models.DataCenterDetail.name == "use.external.dns",
            )
        ).all()
        assert len(overrides) == 1, overrides
        assert store.scoped_text(session, where, "use.external.dns") == overrides[0]
