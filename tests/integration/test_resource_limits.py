"""The resource-limit primitive on a real database: limits in force, reserve, release, races.

``limits.reserve`` is one conditional UPDATE over the account's and its domains' counters;
the race test runs it from many threads at once on PostgreSQL and MariaDB (SQLite has one
writer) and never grants more than the limit.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, accounts, bootstrap, domains, limits, roles, users
from cirrostack.accounts.resources import GIB, ResourceType
from cirrostack.db.models import accounts as models
from cirrostack.db.models import limits as limit_models
from tests.conftest import Database


def _seeded(db: Database) -> tuple[Session, access.Caller]:
    session = db.sessions()
    bootstrap.ensure_cloud(session)
    session.commit()
    return session, access.caller_of(session, session.get_one(models.User, 2))


def _account(
    session: Session, caller: access.Caller, name: str, domain: models.Domain
) -> models.Account:
    role = session.get_one(models.Role, roles.default_role_id(roles.RoleType.USER))
    spec = accounts.NewAccount(users.NewUser(name, "pw-" + name, f"{name}@x"), role, domain)
    return accounts.create(session, caller, spec)[0]


def _set_limit(
    session: Session,
    kind: ResourceType,
    value: int,
    *,
    account: models.Account | None = None,
    domain: models.Domain | None = None,
) -> None:
    session.add(
        limit_models.ResourceLimit(
            type=kind.wire,
            account_id=None if account is None else account.id,
            domain_id=None if domain is None else domain.id,
            max=value,
        )
    )
    session.flush()


def test_defaults_come_from_the_max_keys(database: Database) -> None:
    session, admin = _seeded(database)
    with session:
        domain = domains.create(session, admin, "d", None)
        account = _account(session, admin, "u", domain)
        assert limits.account_limit(session, account, ResourceType.USER_VM) == 20
        assert limits.account_limit(session, account, ResourceType.PRIMARY_STORAGE) == 200 * GIB
        chain = limits.domain_chain(session, domain)
        assert [node.name for node in chain] == ["d", "ROOT"]
        assert limits.domain_limit(session, chain, ResourceType.CPU) == 80
        assert limits.domain_limit(session, chain[1:], ResourceType.CPU) == -1
        root_admin = session.get_one(models.Account, bootstrap.ADMIN_ACCOUNT_ID)
        assert limits.account_limit(session, root_admin, ResourceType.USER_VM) == -1


def test_a_subdomain_without_a_limit_takes_its_parents(database: Database) -> None:
    session, admin = _seeded(database)
    with session:
        parent = domains.create(session, admin, "p", None)
        child = domains.create(session, admin, "c", parent)
        _set_limit(session, ResourceType.VOLUME, 7, domain=parent)
        chain = limits.domain_chain(session, child)
        assert limits.domain_limit(session, chain, ResourceType.VOLUME) == 7


def test_reserve_up_to_the_account_limit_then_refuse(database: Database) -> None:
    session, admin = _seeded(database)
    with session:
        domain = domains.create(session, admin, "d", None)
        account = _account(session, admin, "u", domain)
        _set_limit(session, ResourceType.USER_VM, 2, account=account)
        limits.reserve(session, account, ResourceType.USER_VM)
        limits.reserve(session, account, ResourceType.USER_VM)
        with pytest.raises(errors.ResourceAllocation, match="'user_vm' for account name=u"):
            limits.reserve(session, account, ResourceType.USER_VM)
        # The refusal counted nothing, for the account or any domain.
        assert limits.count_of(session, ResourceType.USER_VM, account_id=account.id) == 2
        assert limits.count_of(session, ResourceType.USER_VM, domain_id=domain.id) == 2
        assert limits.count_of(session, ResourceType.USER_VM, domain_id=1) == 2
        limits.release(session, account, ResourceType.USER_VM)
        limits.reserve(session, account, ResourceType.USER_VM)
        assert limits.count_of(session, ResourceType.USER_VM, account_id=account.id) == 2


def test_a_domain_limit_bounds_its_accounts_together(database: Database) -> None:
    session, admin = _seeded(database)
    with session:
        parent = domains.create(session, admin, "p", None)
        child = domains.create(session, admin, "c", parent)
        _set_limit(session, ResourceType.CPU, 10, domain=parent)
        first, second = _account(session, admin, "a", parent), _account(session, admin, "b", child)
        limits.reserve(session, first, ResourceType.CPU, 6)
        with pytest.raises(errors.ResourceAllocation, match=f"domain id={parent.uuid}"):
            limits.reserve(session, second, ResourceType.CPU, 5)
        limits.reserve(session, second, ResourceType.CPU, 4)
        assert limits.count_of(session, ResourceType.CPU, domain_id=parent.id) == 10
        assert limits.count_of(session, ResourceType.CPU, domain_id=child.id) == 4
        assert limits.count_of(session, ResourceType.CPU, account_id=first.id) == 6


def test_unlimited_minus_one_and_root_admins(database: Database) -> None:
    session, admin = _seeded(database)
    with session:
        domain = domains.create(session, admin, "d", None)
        account = _account(session, admin, "u", domain)
        _set_limit(session, ResourceType.MEMORY, -1, account=account)
        _set_limit(session, ResourceType.MEMORY, -1, domain=domain)
        limits.reserve(session, account, ResourceType.MEMORY, 10**9)
        root_admin = session.get_one(models.Account, bootstrap.ADMIN_ACCOUNT_ID)
        limits.reserve(session, root_admin, ResourceType.USER_VM, 1000)
        assert limits.count_of(session, ResourceType.USER_VM, account_id=root_admin.id) == 1000


def test_release_never_goes_below_zero(database: Database) -> None:
    session, admin = _seeded(database)
    with session:
        account = _account(session, admin, "u", session.get_one(models.Domain, 1))
        limits.reserve(session, account, ResourceType.VOLUME, 1)
        limits.release(session, account, ResourceType.VOLUME, 5)
        assert limits.count_of(session, ResourceType.VOLUME, account_id=account.id) == 0


@pytest.mark.parametrize("database", ["postgresql", "mariadb"], indirect=True)
def test_parallel_reservations_never_exceed_the_limit(database: Database) -> None:
    session, admin = _seeded(database)
    with session:
        domain = domains.create(session, admin, "race", None)
        account = _account(session, admin, "racer", domain)
        _set_limit(session, ResourceType.USER_VM, 5, account=account)
        _set_limit(session, ResourceType.USER_VM, 7, domain=domain)
        other = _account(session, admin, "other", domain)
        # Counters are made on first use; concurrent first uses can deadlock on MariaDB's
        # unique-key inserts, which the transaction owners retry (finding 2). The race under
        # test is the one for the last unit, so the counters exist before it starts.
        for owner in (account, other):
            limits.reserve(session, owner, ResourceType.USER_VM)
            limits.release(session, owner, ResourceType.USER_VM)
        session.commit()
        account_id, other_id = account.id, other.id
    threads, granted, refused, failed = 12, [], [], []
    barrier = threading.Barrier(threads)

    def attempt(index: int) -> None:
        with database.sessions() as own:
            target = own.get_one(models.Account, account_id if index % 2 else other_id)
            barrier.wait()
            try:
                limits.reserve(own, target, ResourceType.USER_VM)
                own.commit()
                granted.append(index)
            except errors.ResourceAllocation:
                own.rollback()
                refused.append(index)
            except Exception as exc:  # a deadlock would show here
                failed.append(repr(exc))

    workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert failed == []
    with database.sessions() as check:
        own_count = limits.count_of(check, ResourceType.USER_VM, account_id=account_id)
        other_count = limits.count_of(check, ResourceType.USER_VM, account_id=other_id)
        domain_count = check.scalar(
            sa.select(limit_models.ResourceCount.count).where(
                limit_models.ResourceCount.type == "user_vm",
                limit_models.ResourceCount.domain_id
                == check.get_one(models.Account, account_id).domain_id,
            )
        )
    assert own_count <= 5
    assert domain_count == own_count + other_count == len(granted) == 7
    assert len(refused) == threads - 7
