"""Races of first use on PostgreSQL and MariaDB (and SQLite, which must be right too): many
VMs joining one new instance group by name make one group with every VM in it, and many first
security groups of a fresh account make one ``default``.

Each thread has its own session and connection and starts at a barrier, so the requests
really overlap where the backend allows it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.compute import instance_groups, security_groups
from cirrostack.db import engine as db_engine
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import attachments as models
from tests import databases
from tests.attachments_world import vm
from tests.cloud import Cloud
from tests.conftest import Database

THREADS = 12


@pytest.fixture
def racing_cloud(database: Database) -> Iterator[Cloud]:
    engine = db_engine.make_engine(database.url, pool_size=THREADS + 4, max_overflow=0)
    try:
        yield Cloud(databases.sessions_for(engine))
    finally:
        engine.dispose()


def _race(cloud: Cloud, action: Callable[[Session, int], object]) -> list[BaseException]:
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        with cloud.sessions() as session:
            barrier.wait(timeout=60)
            try:
                action(session, index)
                session.commit()
            except Exception as exc:  # every failure fails the test
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return failures


def _account(cloud: Cloud, name: str) -> account_models.Account:
    with cloud.sessions() as session:
        return session.scalars(
            sa.select(account_models.Account).where(account_models.Account.account_name == name)
        ).one()


def test_vms_joining_one_new_group_make_one_group(racing_cloud: Cloud) -> None:
    racing_cloud.member("u", racing_cloud.domain("D"))
    account = _account(racing_cloud, "u")
    vms = [vm(racing_cloud, "u")[0] for _ in range(THREADS)]
    failures = _race(
        racing_cloud,
        lambda session, index: instance_groups.assign(session, vms[index], account.id, "Batch"),
    )
    assert failures == []
    with racing_cloud.sessions() as session:
        groups = session.scalars(sa.select(models.InstanceGroup)).all()
        assert [group.name for group in groups] == ["Batch"]
        assert {g.id for g in instance_groups.of_vms(session, vms).values()} == {groups[0].id}


def test_first_security_groups_make_one_default(racing_cloud: Cloud) -> None:
    racing_cloud.member("u", racing_cloud.domain("D"))
    account = _account(racing_cloud, "u")
    failures = _race(
        racing_cloud,
        lambda session, index: security_groups.create(session, account, f"g{index}", None),
    )
    assert failures == []
    with racing_cloud.sessions() as session:
        names = session.scalars(
            sa.select(models.SecurityGroup.name).where(
                models.SecurityGroup.account_id == account.id
            )
        ).all()
        assert sorted(names) == sorted(["default", *(f"g{i}" for i in range(THREADS))])
