"""API keys, passwords and role ranks: tests derived from CloudStack's security history.

- CVE-2016-6813: registerUserKeys reset another user's keys given the id;
- CVE-2024-42062: domain admins could read every user's keys, the root admin's included;
- CVE-2025-47713 / CVE-2025-47849: a ROOT-domain domain admin could reset admin passwords and
  read admin keys.

The rule (``access.check_user_operation``): only the user itself, the default admin account, a
caller whose role type strictly outranks the target's, or another user of the same account
(allow.operations.on.users.in.same.account) may read or reset keys or set a password; a user
who is not an admin gives the current password too; secret keys and password hashes never
appear in any other answer. The world::

    ROOT   admin, admin2 (root admins), rootda (domain admin)
    ├── D1 da, da2 (domain admins), u, u2 (users)
    └── D2 c (user)

Access rules are Python, not SQL: these tests run on SQLite (``test_isolation`` covers every
backend).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from cirrostack.db.models import accounts as models
from cirrostack.db.models import jobs as job_models
from tests.cloud import PASSWORD, Keys, content, session_request

if TYPE_CHECKING:
    from tests.cloud import Cloud, Member

#: A refused access: 531, or 431 as for an unknown id when the target is out of the caller's
#: reach (issue 6 finding 10; tests/security/test_foreign_like_missing.py compares the texts).
REFUSED = frozenset({431, 531})


@dataclass(frozen=True)
class World:
    cloud: Cloud
    d1: str
    d2: str
    admin2: Member
    rootda: Member
    da: Member
    da2: Member
    u: Member
    u2: Member
    c: Member

    @property
    def admin(self) -> Member:
        return self.cloud.admin


@pytest.fixture
def world(sqlite_cloud: Cloud) -> World:
    cloud = sqlite_cloud
    d1, d2 = cloud.domain("D1"), cloud.domain("D2")
    return World(
        cloud,
        d1,
        d2,
        admin2=cloud.member("admin2", cloud.root_id, account_type=1),
        rootda=cloud.member("rootda", cloud.root_id, account_type=2),
        da=cloud.member("da", d1, account_type=2),
        da2=cloud.member("da2", d1, account_type=2),
        u=cloud.member("u", d1),
        u2=cloud.member("u2", d1),
        c=cloud.member("c", d2),
    )


def works(cloud: Cloud, keys: Keys) -> bool:
    return cloud.call(keys, "listCapabilities").status == 200


# --- who may read or reset keys --------------------------------------------------------------

KEY_RULES = [
    # (caller, target, allowed)
    ("u", "u", True),
    ("da", "da", True),
    ("admin", "admin", True),
    ("da", "u", True),
    ("admin", "u", True),
    ("admin", "da", True),
    ("admin", "rootda", True),
    ("rootda", "u", True),
    ("da", "admin", False),
    ("da", "admin2", False),
    ("da", "da2", False),
    ("da", "rootda", False),
    ("da", "c", False),
    ("rootda", "admin", False),
    ("rootda", "admin2", False),
    ("rootda", "da", False),
    # The default admin account may (CloudStack's rule); another root admin may not.
    ("admin", "admin2", True),
    ("admin2", "admin", False),
    ("u", "u2", False),
    ("u", "da", False),
    ("u", "admin", False),
    ("c", "u", False),
]


def test_get_user_keys(world: World) -> None:
    problems = []
    for caller_name, target_name, allowed in KEY_RULES:
        caller, target = getattr(world, caller_name), getattr(world, target_name)
        answer = world.cloud.call(caller.keys, "getUserKeys", id=target.user_id)
        pair = {"apikey": target.keys.api_key, "secretkey": target.keys.secret_key}
        expected = (200, {"userkeys": pair}) if allowed else (REFUSED, None)
        got = (answer.status, content(answer) if allowed else None)
        if not allowed and answer.status in REFUSED:
            got = (REFUSED, None)
        if got != expected or (not allowed and target.keys.secret_key in json.dumps(answer.body)):
            problems.append(f"{caller_name} on {target_name}: {answer.status} {answer.body}")
    assert not problems, "\n".join(problems)


def test_register_user_keys(world: World) -> None:
    cloud = world.cloud
    current = {name: getattr(world, name).keys for name, _, _ in KEY_RULES}
    current.update({name: getattr(world, name).keys for _, name, _ in KEY_RULES})
    problems = []
    for caller_name, target_name, allowed in KEY_RULES:
        target: Member = getattr(world, target_name)
        old = current[target_name]
        answer = cloud.call(current[caller_name], "registerUserKeys", id=target.user_id)
        label = f"{caller_name} on {target_name}"
        if not allowed:
            if answer.status not in REFUSED or not works(cloud, old):
                problems.append(f"{label}: {answer.status} {answer.body}")
            continue
        if answer.status != 200:
            problems.append(f"{label}: {answer.status} {answer.body}")
            continue
        pair = content(answer)["userkeys"]
        new = Keys(pair["apikey"], pair["secretkey"])
        # The old pair stops working at once; the new one works.
        if works(cloud, old) or not works(cloud, new) or new.api_key == old.api_key:
            problems.append(f"{label}: the old pair still works or the new one does not")
        current[target_name] = new
    assert not problems, "\n".join(problems)


USERS = {"u", "u2", "c"}


def test_set_password(world: World) -> None:
    cloud = world.cloud
    problems = []
    current = {name: PASSWORD for name in USERS}
    for caller_name, target_name, allowed in KEY_RULES:
        caller, target = getattr(world, caller_name), getattr(world, target_name)
        password = f"n3w-Password-by-{caller_name}"
        before = cloud.rows()
        # Admins set passwords without the current one; a user gives the target's.
        extra = {"currentpassword": current.get(target_name, "")} if caller_name in USERS else {}
        answer = cloud.call(
            caller.keys, "updateUser", id=target.user_id, password=password, **extra
        )
        unchanged = cloud.rows() == before
        logged_in = cloud.login(target.username, target.domain_id, password).status
        label = f"{caller_name} on {target_name}"
        if allowed and (answer.status, logged_in) != (200, 200):
            problems.append(f"{label}: {answer.status} {answer.body}, login {logged_in}")
        if allowed and target_name in USERS:
            current[target_name] = password
        refused = answer.status in REFUSED and logged_in == 531 and unchanged
        if not allowed and (not refused or "key" in json.dumps(answer.body)):
            problems.append(f"{label}: {answer.status} {answer.body}, login {logged_in}")
    assert not problems, "\n".join(problems)


def test_register_user_keys_leaves_nothing_behind(world: World) -> None:
    cloud = world.cloud
    first = content(cloud.call(world.u.keys, "registerUserKeys", id=world.u.user_id))["userkeys"]
    second = content(
        cloud.call(
            Keys(first["apikey"], first["secretkey"]),
            "registerUserKeys",
            id=world.u.user_id,
        )
    )["userkeys"]
    for old in (world.u.keys, Keys(first["apikey"], first["secretkey"])):
        assert cloud.call(old, "listCapabilities").status == 401
        # An old api key no longer names anyone.
        assert cloud.call(world.admin.keys, "getUser", userapikey=old.api_key).status == 431
    assert works(cloud, Keys(second["apikey"], second["secretkey"]))


# --- creating more powerful accounts ---------------------------------------------------------


def _new_account(username: str, domain: str, **extra: str) -> dict[str, str]:
    return {
        "username": username,
        "password": "Escalat10n-pw",
        "email": f"{username}@example.org",
        "firstname": "Es",
        "lastname": "Calation",
        "domainid": domain,
        **extra,
    }


def _role_uuid(cloud: Cloud, role_type: str) -> str:
    with cloud.sessions() as session:
        return str(
            session.scalars(
                sa.select(models.Role.uuid).where(models.Role.role_type == role_type)
            ).first()
        )


def test_a_domain_admin_cannot_create_a_root_admin(world: World) -> None:
    cloud = world.cloud
    admin_role = _role_uuid(cloud, "Admin")
    attempts = [
        (world.da, _new_account("esc1", world.d1, accounttype="1")),
        (world.da, _new_account("esc2", world.d1, roleid=admin_role)),
        (world.rootda, _new_account("esc3", cloud.root_id, accounttype="1")),
        (world.rootda, _new_account("esc4", cloud.root_id, roleid=admin_role)),
    ]
    for caller, params in attempts:
        before = cloud.rows()
        answer = cloud.call(caller.keys, "createAccount", **params)
        assert answer.status == 531, (params, answer.body)
        assert cloud.rows() == before
        assert cloud.login(params["username"], params["domainid"], "Escalat10n-pw").status == 531


def test_a_user_cannot_create_accounts(world: World) -> None:
    answer = world.cloud.call(
        world.u.keys, "createAccount", **_new_account("esc5", world.d1, accounttype="0")
    )
    assert answer.status == 401


def test_a_domain_admin_may_create_users_and_domain_admins(world: World) -> None:
    for kind in ("0", "2"):
        params = _new_account(f"made{kind}", world.d1, accounttype=kind)
        answer = world.cloud.call(world.da.keys, "createAccount", **params)
        assert answer.status == 200, answer.body
        assert content(answer)["account"]["accounttype"] == int(kind)


# --- ROOT-domain domain admins and the role hierarchy (CVE-2025-47713 class) ------------------

HIERARCHY_BUG = (
    "access.check_account lets a domain admin act on any account below its domain path, so a "
    "domain admin in ROOT reaches root admin accounts; CloudStack 4.19.3 also requires the "
    "caller's role type to be at least the target's"
)


def test_root_domain_admin_cannot_add_a_user_to_a_root_admin_account(world: World) -> None:
    cloud = world.cloud
    params = _new_account("backdoor", cloud.root_id, account=world.admin.account_name)
    answer = cloud.call(world.rootda.keys, "createUser", **params)
    login = cloud.login("backdoor", cloud.root_id, "Escalat10n-pw")
    # Today: 200, and "backdoor" logs in as a root admin (login type "1").
    assert (answer.status in REFUSED, login.status) == (True, 531), (answer.body, login.body)


def test_root_domain_admin_cannot_disable_a_root_admin(world: World) -> None:
    cloud = world.cloud
    keys = world.rootda.keys
    answer = cloud.call(keys, "disableAccount", id=world.admin2.account_id, lock="true")
    assert cloud.outcome(keys, answer) in REFUSED
    assert works(cloud, world.admin2.keys)


def test_root_domain_admin_cannot_delete_a_root_admin(world: World) -> None:
    cloud = world.cloud
    answer = cloud.call(world.rootda.keys, "deleteAccount", id=world.admin2.account_id)
    assert cloud.outcome(world.rootda.keys, answer) in REFUSED
    assert works(cloud, world.admin2.keys)


def test_root_domain_admin_cannot_change_the_root_admin(world: World) -> None:
    cloud = world.cloud
    keys = world.rootda.keys
    before = cloud.rows()
    statuses = [
        cloud.call(keys, "updateUser", id=world.admin.user_id, email="attacker@example.org").status,
        cloud.call(keys, "updateUser", id=world.admin.user_id, username="renamed").status,
        cloud.call(keys, "updateAccount", id=world.admin.account_id, networkdomain="x.io").status,
    ]
    assert all(status in REFUSED for status in statuses), statuses
    assert cloud.rows() == before


# --- disabled and locked accounts ------------------------------------------------------------


@pytest.mark.parametrize("lock", ["false", "true"])
def test_disabled_or_locked_account_keys_get_401(world: World, lock: str) -> None:
    cloud = world.cloud
    answer = cloud.call(world.da.keys, "disableAccount", id=world.u.account_id, lock=lock)
    job = cloud.job(world.da.keys, answer)
    assert job["jobresult"]["account"]["state"] == ("locked" if lock == "true" else "disabled")
    for command in ("listCapabilities", "listUsers", "getUserKeys"):
        refused = cloud.call(world.u.keys, command, id=world.u.user_id)
        assert refused.status == 401, (command, refused.body)
        assert list(refused.body) == ["errorresponse"]
    assert cloud.login(world.u.username, world.u.domain_id).status == 531
    cloud.ok(world.da.keys, "enableAccount", id=world.u.account_id)
    assert works(cloud, world.u.keys)


def test_disabling_an_account_ends_its_sessions(world: World) -> None:
    cloud = world.cloud
    login = cloud.login(world.u.username, world.u.domain_id)
    assert cloud.dispatcher.handle(session_request(login, "listCapabilities")).status == 200
    disabled = cloud.call(world.da.keys, "disableAccount", id=world.u.account_id, lock="false")
    assert cloud.job(world.da.keys, disabled)["jobstatus"] == 1
    cloud.ok(world.da.keys, "enableAccount", id=world.u.account_id)
    assert cloud.dispatcher.handle(session_request(login, "listCapabilities")).status == 401


# --- no secret in any answer -----------------------------------------------------------------


def _answers_of_every_kind(world: World) -> list[tuple[str, object]]:
    """Answers of every command that shows users, by callers of every rank."""
    cloud = world.cloud
    answers: list[tuple[str, object]] = []

    def record(label: str, keys: Keys, command: str, **named: str) -> None:
        answer = cloud.call(keys, command, **named)
        answers.append((f"{label} {command} {named}", {"body": answer.body, "h": answer.headers}))
        if "jobid" in json.dumps(answer.body) and answer.status == 200:
            jobid = next(iter(answer.body.values())).get("jobid")
            if jobid:
                job = cloud.call(keys, "queryAsyncJobResult", jobid=jobid)
                answers.append((f"{label} job of {command}", job.body))

    for name in ("admin", "rootda", "da", "u"):
        member: Member = getattr(world, name)
        keys = member.keys
        record(name, keys, "listUsers", listall="true")
        record(name, keys, "listAccounts", listall="true")
        record(name, keys, "listDomains", listall="true")
        for other in ("admin", "admin2", "da", "u", "c"):
            target: Member = getattr(world, other)
            record(name, keys, "getUser", userapikey=target.keys.api_key)
            record(name, keys, "listUsers", id=target.user_id)
            record(name, keys, "listAccounts", id=target.account_id, listall="true")
        record(name, keys, "updateUser", id=member.user_id, email=f"{name}@example.net")
        record(name, keys, "updateUser", id=world.u.user_id, firstname="Renamed")
        record(name, keys, "createAccount", **_new_account(f"new{name}", world.d1, accounttype="0"))
        record(
            name,
            keys,
            "createUser",
            **_new_account(f"extra{name}", world.d1, account=world.u.account_name),
        )
        record(name, keys, "disableAccount", id=world.u2.account_id, lock="false")
        record(name, keys, "enableAccount", id=world.u2.account_id)
        record(name, keys, "listApis", name="listUsers")
    login = cloud.login(world.u.username, world.u.domain_id)
    answers.append(("login", {"body": login.body, "h": login.headers}))
    return answers


def test_no_secret_key_or_password_hash_in_any_answer(world: World) -> None:
    cloud = world.cloud
    # Every user has a key pair, so there is a secret to leak for each.
    for name in ("u2", "c"):
        assert getattr(world, name).keys.secret_key
    answers = _answers_of_every_kind(world)
    secrets = cloud.secrets()
    assert len(secrets) >= 2 * 8
    leaks = [
        f"{label}: {what}"
        for label, answer in answers
        for what, secret in secrets.items()
        if secret in json.dumps(answer, default=str)
    ]
    assert not leaks, "\n".join(leaks)
    for label, answer in answers:
        text = json.dumps(answer, default=str).lower()
        assert "secretkey" not in text, label
        assert "pbkdf2" not in text, label
        assert PASSWORD.lower() not in text, label


def test_no_password_in_async_job_records(world: World) -> None:
    cloud = world.cloud
    keys = world.da.keys
    # An undeclared password parameter rides along; neither the answer nor the row keeps it.
    marker = "Very-Secret-Pa55word"
    for command, params in (
        ("disableAccount", {"id": world.u.account_id, "lock": "false", "password": marker}),
        ("deleteAccount", {"id": world.u2.account_id, "password": marker}),
    ):
        answer = cloud.call(keys, command, **params)
        job = cloud.job(keys, answer)
        assert job["jobstatus"] == 1, job
        text = json.dumps(job)
        assert marker not in text
        assert "password" not in text.lower()
        assert "pbkdf2" not in text
    with cloud.sessions() as session:
        rows = session.scalars(sa.select(job_models.AsyncJob)).all()
        assert rows
        for row in rows:
            stored = f"{row.job_cmd_info} {row.job_result}"
            assert marker not in stored
            assert "pbkdf2" not in stored
