"""Account services on a real database (SQLite, PostgreSQL, MariaDB): the rules that matter."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, accounts, bootstrap, domains, roles, sessions, users
from cirrostack.db import base, query
from cirrostack.db.models import accounts as models
from tests.conftest import Database

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0)


def seeded(db: Database) -> tuple[Session, access.Caller]:
    session = db.sessions()
    bootstrap.ensure_cloud(session)
    session.commit()
    admin = session.get_one(models.User, 2)
    return session, access.caller_of(session, admin)


def new_account(
    session: Session,
    caller: access.Caller,
    name: str,
    domain: models.Domain,
    role_type: roles.RoleType = roles.RoleType.USER,
) -> tuple[models.Account, models.User]:
    role = session.get_one(models.Role, roles.default_role_id(role_type))
    spec = accounts.NewAccount(users.NewUser(name, "pw-" + name, f"{name}@x"), role, domain)
    return accounts.create(session, caller, spec)


def test_bootstrap_is_idempotent_and_ids_continue_after_the_seed(database: Database) -> None:
    with database.sessions() as session:
        first = bootstrap.ensure_cloud(session)
        session.commit()
    with database.sessions() as session:
        second = bootstrap.ensure_cloud(session)
        session.commit()
        assert (second.api_key, second.secret_key) == (first.api_key, first.secret_key)
        assert first.password is not None and second.password is None
        assert session.scalar(sa.select(sa.func.count()).select_from(models.Account)) == 2
        # A row inserted after the explicit-id seed must get a fresh id (PostgreSQL sequences).
        caller = access.caller_of(session, session.get_one(models.User, 2))
        child = domains.create(session, caller, "child", None)
        session.commit()
        assert child.id > 1


def test_domain_tree_paths_follow_renames(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        parent = domains.create(session, admin, "a", None)
        child = domains.create(session, admin, "b", parent)
        session.commit()
        assert (parent.path, child.path, child.level) == ("/a/", "/a/b/", 2)
        domains.update(session, admin, parent, "renamed", None)
        session.commit()
        session.refresh(child)
        assert child.path == "/renamed/b/"
        with pytest.raises(errors.InvalidParameterValue):
            domains.create(session, admin, "b", parent)
        with pytest.raises(errors.InvalidParameterValue):
            domains.update(session, admin, session.get_one(models.Domain, 1), "x", None)


def test_deleting_a_domain_needs_cleanup_when_not_empty(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        domain = domains.create(session, admin, "d", None)
        account, user = new_account(session, admin, "alice", domain)
        sessions.login(session, "alice", "pw-alice", domain=domain, now=NOW)
        session.commit()
        with pytest.raises(errors.ResourceInUse):
            domains.delete(session, admin, domain, cleanup=False)
        domains.delete(session, admin, domain, cleanup=True)
        session.commit()
        assert domain.removed is not None and account.removed is not None
        assert user.removed is not None
        assert session.scalar(sa.select(sa.func.count()).select_from(models.ApiSession)) == 0


def test_domain_admin_is_confined_to_its_subtree(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        mine = domains.create(session, admin, "mine", None)
        other = domains.create(session, admin, "other", None)
        _, boss = new_account(session, admin, "boss", mine, roles.RoleType.DOMAIN_ADMIN)
        session.commit()
        caller = access.caller_of(session, boss)
        below = domains.create(session, caller, "below", None)
        assert below.path == "/mine/below/"
        with pytest.raises(errors.PermissionDenied):
            domains.create(session, caller, "x", other)
        with pytest.raises(errors.PermissionDenied):
            new_account(session, caller, "root2", mine, roles.RoleType.ADMIN)
        found, total = accounts.search(
            session, caller, accounts.AccountFilter(listall=True), query.Page()
        )
        assert total == 1 and [account.account_name for account in found] == ["boss"]


def test_account_names_are_unique_per_domain_and_users_by_domain(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        first = domains.create(session, admin, "one", None)
        second = domains.create(session, admin, "two", None)
        new_account(session, admin, "carol", first)
        new_account(session, admin, "carol", second)
        with pytest.raises(errors.InvalidParameterValue):
            new_account(session, admin, "carol", first)


def test_login_sessions_expire_end_at_logout_and_with_the_account(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        root = session.get_one(models.Domain, 1)
        account, _ = new_account(session, admin, "dave", root)
        opened = sessions.login(session, "dave", "pw-dave", domain=root, now=NOW)
        session.commit()
        key, cookie = opened.session_key, opened.jsessionid
        assert sessions.resume(session, key, cookie, now=NOW) is not None
        assert sessions.resume(session, key, "wrong-cookie", now=NOW) is None
        assert sessions.resume(session, key, None, now=NOW) is None
        idle = NOW + sessions.SESSION_TIMEOUT + datetime.timedelta(seconds=1)
        assert sessions.resume(session, key, cookie, now=idle) is None
        sessions.logout(session, key)
        assert sessions.resume(session, key, cookie, now=NOW) is None
        again = sessions.login(session, "dave", "pw-dave", domain=root, now=NOW)
        accounts.set_state(session, admin, account, accounts.State.DISABLED)
        assert sessions.resume(session, again.session_key, again.jsessionid, now=NOW) is None
        with pytest.raises(sessions.LoginFailed):
            sessions.login(session, "dave", "pw-dave", domain=root, now=NOW)


def test_wrong_password_and_unknown_user_fail_alike(database: Database) -> None:
    session, _ = seeded(database)
    with session:
        root = session.get_one(models.Domain, 1)
        with pytest.raises(sessions.LoginFailed) as wrong_password:
            sessions.login(session, "admin", "not-the-password", domain=root, now=NOW)
        with pytest.raises(sessions.LoginFailed) as unknown_user:
            sessions.login(session, "nobody", "x", domain=root, now=NOW)
        assert "admin" in str(wrong_password.value) and "nobody" in str(unknown_user.value)
        assert str(wrong_password.value).replace("admin", "") == str(unknown_user.value).replace(
            "nobody", ""
        )


def test_registering_keys_replaces_the_old_pair(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        _, user = new_account(session, admin, "erin", session.get_one(models.Domain, 1))
        caller = access.caller_of(session, user)
        first = users.register_keys(session, caller, user)
        second = users.register_keys(session, caller, user)
        assert first != second
        assert users.by_api_key(session, first.api_key) is None
        assert users.by_api_key(session, second.api_key) == user


def test_default_accounts_cannot_be_deleted_or_disabled(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        for account_id in (1, 2):
            account = session.get_one(models.Account, account_id)
            with pytest.raises(errors.InvalidParameterValue):
                accounts.delete(session, admin, account)
            with pytest.raises(errors.InvalidParameterValue):
                accounts.set_state(session, admin, account, accounts.State.LOCKED)
        assert session.get_one(models.Account, 2).removed is None
        assert base.utcnow() > NOW


@pytest.mark.parametrize(
    ("path", "prefix", "inside"),
    [
        ("/case/", "/case/", True),
        ("/case/below/", "/case/", True),
        ("/CASE/", "/case/", False),
        ("/CASE/below/", "/case/", False),
        ("/a_b/", "/a%b/", False),
        ("/axb/", "/a_b/", False),
    ],
)
def test_subtree_match_is_exact_not_like(
    database: Database, path: str, prefix: str, inside: bool
) -> None:
    head = path[: len(prefix)]
    if database.backend == "mariadb" and head.lower() == prefix.lower() and head != prefix:
        pytest.skip("MariaDB's collation compares case-insensitively; twins are refused there")
    with database.engine.connect() as connection:
        matched = connection.scalar(sa.select(query.under_path(sa.literal(path), prefix)))
    assert bool(matched) is inside


def test_sibling_domain_names_differing_only_in_case_are_refused(database: Database) -> None:
    session, admin = seeded(database)
    with session:
        twin = domains.create(session, admin, "twin", None)
        with pytest.raises(errors.InvalidParameterValue):
            domains.create(session, admin, "TWIN", None)
        domains.update(session, admin, twin, "Twin", None)
        assert twin.path == "/Twin/"
