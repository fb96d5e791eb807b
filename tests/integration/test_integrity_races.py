"""Check-then-insert races on every backend: parallel creates of one name make exactly one row,
the losers get CloudStack's clear error, and a deleteDomain cleanup=true racing creates inside
it leaves nothing live behind (issue 6, finding 1).

Each thread has its own session and connection and waits at a barrier, so the requests really
overlap on PostgreSQL and MariaDB (SQLite serialises them on its write lock, and must be right
all the same).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.accounts import access, accounts, bootstrap, domains, roles, users
from cirrostack.db import engine as db_engine
from cirrostack.db.models import accounts as models
from tests.conftest import Database

THREADS = 30

Action = Callable[[Session, access.Caller, int], object]


@dataclass(frozen=True)
class Outcome:
    """What one racing request ended with: its result, or the error it raised."""

    result: object = None
    error: BaseException | None = None


@pytest.fixture
def racing(database: Database) -> Iterator[sessionmaker[Session]]:
    """A session factory whose pool gives every racing thread its own connection."""
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        session.commit()
    engine = db_engine.make_engine(database.url, pool_size=THREADS + 2, max_overflow=0)
    try:
        yield db_engine.make_sessionmaker(engine)
    finally:
        engine.dispose()


def race(sessions: sessionmaker[Session], action: Action, threads: int = THREADS) -> list[Outcome]:
    """Run ``action`` in ``threads`` threads released together, each committing its work."""
    barrier = threading.Barrier(threads)
    outcomes: list[Outcome] = [Outcome()] * threads

    def run(index: int) -> None:
        with sessions() as session:
            caller = access.caller_of(session, session.get_one(models.User, 2))
            session.commit()  # SQLite: no write lock held while waiting at the barrier
            barrier.wait(timeout=60)
            try:
                result = action(session, caller, index)
                session.commit()
                outcomes[index] = Outcome(result=result)
            except Exception as exc:  # every outcome is examined by the test
                session.rollback()
                outcomes[index] = Outcome(error=exc)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return outcomes


def refused(outcomes: list[Outcome]) -> list[str]:
    """The messages of the losers; fails on any error that is not a clear 431 refusal."""
    unexpected = [o.error for o in outcomes if o.error is not None]
    unexpected = [e for e in unexpected if not isinstance(e, errors.InvalidParameterValue)]
    assert unexpected == [], unexpected
    return [str(o.error) for o in outcomes if o.error is not None]


def new_account(
    session: Session, caller: access.Caller, name: str, domain: models.Domain, username: str
) -> tuple[models.Account, models.User]:
    role = session.get_one(models.Role, roles.default_role_id(roles.RoleType.USER))
    spec = accounts.NewAccount(users.NewUser(username, "pw"), role, domain, name=name)
    return accounts.create(session, caller, spec)


def live(session: Session, model: type[models.Account | models.Domain | models.User]) -> int:
    return int(
        session.scalar(sa.select(sa.func.count()).select_from(model).where(model.removed.is_(None)))
        or 0
    )


def test_parallel_create_account_of_one_name_makes_one(racing: sessionmaker[Session]) -> None:
    def create(session: Session, caller: access.Caller, index: int) -> object:
        root = session.get_one(models.Domain, domains.ROOT_ID)
        # One name in different cases, with distinct usernames: only the account key decides.
        return new_account(session, caller, "Racer" if index % 2 else "racer", root, f"u{index}")

    outcomes = race(racing, create)
    messages = refused(outcomes)
    assert len(messages) == THREADS - 1
    assert all("already exists in domain ROOT" in message for message in messages)
    with racing() as session:
        names = session.scalars(
            sa.select(models.Account.account_name).where(
                sa.func.lower(models.Account.account_name) == "racer"
            )
        ).all()
        assert len(names) == 1
        # The winner's first user exists, the losers' users do not.
        assert live(session, models.User) == 3


def test_parallel_create_domain_of_one_name_makes_one_sibling(
    racing: sessionmaker[Session],
) -> None:
    def create(session: Session, caller: access.Caller, index: int) -> object:
        return domains.create(session, caller, "Sib" if index % 2 else "SIB", None)

    messages = refused(race(racing, create))
    assert len(messages) == THREADS - 1
    assert all("already exists for the parent" in message for message in messages)
    with racing() as session:
        assert live(session, models.Domain) == 2
        assert session.get_one(models.Domain, domains.ROOT_ID).child_count == 1


def test_parallel_create_user_of_one_name_makes_one(racing: sessionmaker[Session]) -> None:
    with racing() as session:
        caller = access.caller_of(session, session.get_one(models.User, 2))
        root = session.get_one(models.Domain, domains.ROOT_ID)
        account, _ = new_account(session, caller, "team", root, "owner")
        session.commit()
        account_id = account.id

    def create(session: Session, caller: access.Caller, index: int) -> object:
        target = session.get_one(models.Account, account_id)
        return users.create(session, caller, target, users.NewUser("Twin", f"pw{index}"))

    messages = refused(race(racing, create))
    assert len(messages) == THREADS - 1
    assert all("The user Twin already exists in domain ROOT" in m for m in messages)
    with racing() as session:
        twins = session.scalars(
            sa.select(models.User).where(sa.func.lower(models.User.username) == "twin")
        ).all()
        assert len(twins) == 1


def test_parallel_child_domains_count_every_child(racing: sessionmaker[Session]) -> None:
    def create(session: Session, caller: access.Caller, index: int) -> object:
        return domains.create(session, caller, f"child{index}", None)

    assert refused(race(racing, create)) == []
    with racing() as session:
        root = session.get_one(models.Domain, domains.ROOT_ID)
        assert root.child_count == THREADS == live(session, models.Domain) - 1


def test_delete_domain_racing_creates_inside_it_leaves_no_orphans(
    racing: sessionmaker[Session],
) -> None:
    with racing() as session:
        caller = access.caller_of(session, session.get_one(models.User, 2))
        doomed = domains.create(session, caller, "doomed", None)
        inner = domains.create(session, caller, "inner", doomed)
        account, _ = new_account(session, caller, "resident", inner, "resident")
        session.commit()
        doomed_id, inner_id, account_id = doomed.id, inner.id, account.id

    def act(session: Session, caller: access.Caller, index: int) -> object:
        if index == 0:
            domains.delete(session, caller, session.get_one(models.Domain, doomed_id), cleanup=True)
            return "deleted"
        where = session.get_one(models.Domain, (doomed_id, inner_id)[index % 2])
        if index % 3 == 0:
            return domains.create(session, caller, f"d{index}", where)
        if index % 3 == 1:
            return new_account(session, caller, f"a{index}", where, f"a{index}")
        target = session.get_one(models.Account, account_id)
        return users.create(session, caller, target, users.NewUser(f"u{index}", "pw"))

    outcomes = race(racing, act)
    assert outcomes[0] == Outcome(result="deleted")
    refused(outcomes)  # late creates find the domain or account gone: a clear 431
    with racing() as session:
        orphans = {
            "domains": session.scalars(
                sa.select(models.Domain.name).where(
                    models.Domain.removed.is_(None), models.Domain.path.like("/doomed/%")
                )
            ).all(),
            "accounts": session.scalars(
                sa.select(models.Account.account_name)
                .join(models.Domain, models.Domain.id == models.Account.domain_id)
                .where(models.Account.removed.is_(None), models.Domain.removed.is_not(None))
            ).all(),
            "users": session.scalars(
                sa.select(models.User.username)
                .join(models.Account, models.Account.id == models.User.account_id)
                .where(models.User.removed.is_(None), models.Account.removed.is_not(None))
            ).all(),
        }
        assert orphans == {"domains": [], "accounts": [], "users": []}
        root = session.get_one(models.Domain, domains.ROOT_ID)
        assert root.child_count == 0


def test_delete_account_racing_create_user_leaves_no_live_user(
    racing: sessionmaker[Session],
) -> None:
    with racing() as session:
        caller = access.caller_of(session, session.get_one(models.User, 2))
        root = session.get_one(models.Domain, domains.ROOT_ID)
        account, _ = new_account(session, caller, "leaving", root, "leaving")
        session.commit()
        account_id = account.id

    def act(session: Session, caller: access.Caller, index: int) -> object:
        target = session.get_one(models.Account, account_id)
        if index == THREADS // 2:
            accounts.delete(session, caller, target)
            return "deleted"
        return users.create(session, caller, target, users.NewUser(f"late{index}", "pw"))

    outcomes = race(racing, act)
    assert outcomes[THREADS // 2] == Outcome(result="deleted")
    refused(outcomes)
    with racing() as session:
        left = session.scalars(
            sa.select(models.User.username).where(
                models.User.account_id == account_id, models.User.removed.is_(None)
            )
        ).all()
        assert left == []
