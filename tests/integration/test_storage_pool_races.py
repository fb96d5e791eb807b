"""deleteStoragePool against a volume create on the same pool, on every backend.

Both lock the pool row first (``pools.lock``); the winner's transaction finishes before the
loser reads. Whatever the order, a removed pool never has a live volume: either the delete wins
and the create is refused (431, the pool is gone), or the create wins and the delete is refused
(ResourceInUse, a volume remains).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.accounts import bootstrap
from cirrostack.db import engine as db_engine
from cirrostack.db.models import accounts, offerings
from cirrostack.db.models import storage as models
from cirrostack.storage import pools
from tests import rows
from tests.conftest import Database

ROUNDS = 4


@pytest.fixture
def racing(database: Database) -> Iterator[tuple[sessionmaker[Session], int, int]]:
    """Sessions with a connection per thread, the zone's id and a disk offering's id."""
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        zone, _, _ = rows.zone_pod_cluster(session)
        offering = offerings.DiskOffering(name="d")
        session.add(offering)
        session.commit()
        ids = (zone.id, offering.id)
    engine = db_engine.make_engine(database.url, pool_size=4, max_overflow=0)
    try:
        yield db_engine.make_sessionmaker(engine), *ids
    finally:
        engine.dispose()


def _new_pool(sessions: sessionmaker[Session], zone_id: int, index: int) -> int:
    with sessions() as session:
        pool = models.StoragePool(
            name=f"race{index}",
            pool_type="NetworkFilesystem",
            host_address="10.0.0.2",
            path=f"/race{index}",
            data_center_id=zone_id,
            scope="ZONE",
            status="Up",
        )
        session.add(pool)
        session.commit()
        return pool.id


def _delete(session: Session, pool_id: int) -> None:
    pool = pools.lock(session, pool_id)
    time.sleep(0.05)  # widen the window: the other side is waiting on the lock meanwhile
    pools.remove(session, pool)


def _create_volume(session: Session, pool_id: int, offering_id: int) -> None:
    pool = pools.lock(session, pool_id)
    time.sleep(0.05)
    admin = session.scalars(sa.select(accounts.Account).order_by(accounts.Account.id)).first()
    assert admin is not None
    session.add(
        models.Volume(
            name="v",
            account_id=admin.id,
            domain_id=admin.domain_id,
            data_center_id=pool.data_center_id,
            pool_id=pool.id,
            volume_type="DATADISK",
            size=1,
            disk_offering_id=offering_id,
            state="Ready",
        )
    )


def _round(
    sessions: sessionmaker[Session], pool_id: int, offering_id: int, index: int
) -> dict[str, BaseException | None]:
    """The delete and the create released together; each one's error (None: it won)."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, BaseException | None] = {}

    def run(name: str) -> None:
        with sessions() as session:
            barrier.wait(timeout=30)
            if name == "create" and index % 2:
                time.sleep(0.01)  # let either side go first across the rounds
            try:
                if name == "delete":
                    _delete(session, pool_id)
                else:
                    _create_volume(session, pool_id, offering_id)
                session.commit()
                outcomes[name] = None
            except Exception as exc:  # examined by the test
                session.rollback()
                outcomes[name] = exc

    workers = [threading.Thread(target=run, args=(name,)) for name in ("delete", "create")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


def test_delete_and_volume_create_serialise_on_the_pool_lock(
    racing: tuple[sessionmaker[Session], int, int],
) -> None:
    sessions, zone_id, offering_id = racing
    seen: set[str] = set()
    for index in range(ROUNDS):
        pool_id = _new_pool(sessions, zone_id, index)
        outcomes = _round(sessions, pool_id, offering_id, index)
        failed = {name: exc for name, exc in outcomes.items() if exc is not None}
        assert len(outcomes) == 2 and len(failed) == 1, outcomes
        ((loser, error),) = failed.items()
        if loser == "create":
            assert isinstance(error, errors.InvalidParameterValue), error
        else:
            assert isinstance(error, errors.ResourceInUse), error
        seen.add(loser)
        with sessions() as session:
            pool = session.get_one(models.StoragePool, pool_id)
            live = session.scalar(
                sa.select(sa.func.count())
                .select_from(models.Volume)
                .where(models.Volume.pool_id == pool_id, models.Volume.removed.is_(None))
            )
            assert (pool.removed is not None) != bool(live)
    assert seen
