"""Passwords, keys and states of users: currentpassword, session ends, same-account operations,
chosen key pairs, the password policy, and lockUser / disableUser / enableUser.

CloudStack's rules (AccountManagerImpl, PasswordPolicyImpl): a user who is not an admin sets a
password only with the current one; root and domain admins do not need it; users of one account
may operate on each other unless allow.operations.on.users.in.same.account is false; a password
must meet the password.policy.* settings of the user's domain. cirrostack adds: a new password
ends the user's other sessions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from cirrostack.db.models import accounts as models
from tests.cloud import PASSWORD, Keys, content, session_request

if TYPE_CHECKING:
    from cirrostack.api import dispatch
    from tests.cloud import Cloud, Member


def _errortext(answer: dispatch.Answer, status: int) -> str:
    assert answer.status == status, answer.body
    return str(content(answer)["errortext"])


def _in(cloud: Cloud, login: dispatch.Answer, command: str, **named: str) -> dispatch.Answer:
    return cloud.dispatcher.handle(session_request(login, command, **named))


def _set(cloud: Cloud, name: str, value: str, **scope: str) -> None:
    cloud.ok(cloud.admin.keys, "updateConfiguration", name=name, value=value, **scope)


def _colleague(cloud: Cloud, member: Member, username: str) -> Member:
    """A second user in ``member``'s account, with its own keys."""
    created = cloud.ok(
        cloud.admin.keys,
        "createUser",
        account=member.account_name,
        domainid=member.domain_id,
        username=username,
        password=PASSWORD,
        email=f"{username}@example.org",
        firstname="Col",
        lastname="League",
    )["user"]
    pair = cloud.ok(cloud.admin.keys, "registerUserKeys", id=created["id"])["userkeys"]
    keys = Keys(pair["apikey"], pair["secretkey"])
    return cloud._member_for(username, keys, member.domain_id)


# --- currentpassword ---------------------------------------------------------------------------


def test_a_user_needs_its_current_password_to_set_a_new_one(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud
    user = cloud.member("uma", cloud.root_id)
    change = {"id": user.user_id, "password": "Brand-new-1"}
    missing = cloud.call(user.keys, "updateUser", **change)
    assert (
        _errortext(missing, 431) == "To set a new password the current password must be provided."
    )
    wrong = cloud.call(user.keys, "updateUser", currentpassword="guess", **change)
    assert _errortext(wrong, 431) == "Current password is incorrect."
    assert cloud.login(user.username, user.domain_id).status == 200  # nothing changed
    cloud.ok(user.keys, "updateUser", currentpassword=PASSWORD, **change)
    assert cloud.login(user.username, user.domain_id, "Brand-new-1").status == 200


def test_root_and_domain_admins_set_passwords_without_the_current_one(
    sqlite_cloud: Cloud,
) -> None:
    cloud = sqlite_cloud
    domain_admin = cloud.member("dora", cloud.root_id, account_type=2)
    user = cloud.member("ulf", cloud.root_id)
    cloud.ok(domain_admin.keys, "updateUser", id=user.user_id, password="Set-by-dora-1")
    assert cloud.login(user.username, user.domain_id, "Set-by-dora-1").status == 200
    cloud.ok(domain_admin.keys, "updateUser", id=domain_admin.user_id, password="Own-dora-1")
    assert cloud.login(domain_admin.username, domain_admin.domain_id, "Own-dora-1").status == 200


def test_a_blank_password_is_refused(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud
    user = cloud.member("blank", cloud.root_id)
    answer = cloud.call(cloud.admin.keys, "updateUser", id=user.user_id, password="   ")
    assert _errortext(answer, 431) == "Password cannot be empty or blank."


# --- a new password ends the other sessions -----------------------------------------------------


def test_a_new_password_ends_the_users_other_sessions(cloud: Cloud) -> None:
    user = cloud.member("sam", cloud.root_id)
    mine, other = (
        cloud.login(user.username, user.domain_id),
        cloud.login(user.username, user.domain_id),
    )
    changed = _in(
        cloud, mine, "updateUser", id=user.user_id, password="Fresh-pw-2", currentpassword=PASSWORD
    )
    assert changed.status == 200, changed.body
    assert _in(cloud, mine, "listCapabilities").status == 200
    assert _in(cloud, other, "listCapabilities").status == 401
    # An admin's reset ends every session of the user.
    third = cloud.login(user.username, user.domain_id, "Fresh-pw-2")
    cloud.ok(cloud.admin.keys, "updateUser", id=user.user_id, password="Reset-by-admin-3")
    assert _in(cloud, mine, "listCapabilities").status == 401
    assert _in(cloud, third, "listCapabilities").status == 401


# --- users of one account ---------------------------------------------------------------------


def test_users_of_one_account_may_set_each_others_password_and_keys(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud
    first = cloud.member("team", cloud.root_id)
    second = _colleague(cloud, first, "team2")
    cloud.ok(
        first.keys,
        "updateUser",
        id=second.user_id,
        password="By-my-colleague-1",
        currentpassword=PASSWORD,
    )
    assert cloud.login(second.username, second.domain_id, "By-my-colleague-1").status == 200
    keys = cloud.ok(first.keys, "getUserKeys", id=second.user_id)["userkeys"]
    assert keys["secretkey"] == second.keys.secret_key
    assert cloud.ok(first.keys, "registerUserKeys", id=second.user_id)["userkeys"]["apikey"]


def test_allow_operations_on_users_in_same_account_false_refuses_them(
    sqlite_cloud: Cloud,
) -> None:
    cloud = sqlite_cloud
    domain = cloud.domain("Strict")
    first = cloud.member("solo", domain)
    second = _colleague(cloud, first, "solo2")
    _set(cloud, "allow.operations.on.users.in.same.account", "false", domainid=domain)
    before = cloud.rows()
    for command, named in (
        ("getUserKeys", {}),
        ("registerUserKeys", {}),
        ("updateUser", {"password": "Taken-over-1", "currentpassword": PASSWORD}),
    ):
        answer = cloud.call(first.keys, command, id=second.user_id, **named)
        text = _errortext(answer, 531)
        assert text == "The user operations are not allowed by the users in the same account"
    assert cloud.rows() == before
    # Its own password it may still change.
    cloud.ok(
        first.keys, "updateUser", id=first.user_id, password="Mine-1", currentpassword=PASSWORD
    )


def test_the_default_admin_sets_another_root_admins_password(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud
    other = cloud.member("root2", cloud.root_id, account_type=1)
    cloud.ok(cloud.admin.keys, "updateUser", id=other.user_id, password="From-the-admin-1")
    assert cloud.login(other.username, other.domain_id, "From-the-admin-1").status == 200
    # ...but one root admin does not take over another, and the refusal speaks of no keys.
    third = cloud.member("root3", cloud.root_id, account_type=1)
    answer = cloud.call(third.keys, "updateUser", id=other.user_id, password="Taken-1")
    assert "key" not in _errortext(answer, 531)


# --- a chosen key pair (updateUser userapikey/usersecretkey) ------------------------------------


def test_update_user_sets_a_chosen_key_pair(cloud: Cloud) -> None:
    user = cloud.member("keyed", cloud.root_id)
    chosen = Keys("chosen-api-key-" + "a" * 40, "chosen-secret-key-" + "b" * 40)
    cloud.ok(
        cloud.admin.keys,
        "updateUser",
        id=user.user_id,
        userapikey=chosen.api_key,
        usersecretkey=chosen.secret_key,
    )
    assert cloud.call(chosen, "listCapabilities").status == 200
    assert cloud.call(user.keys, "listCapabilities").status == 401
    half = cloud.call(cloud.admin.keys, "updateUser", id=user.user_id, userapikey="lonely")
    assert _errortext(half, 431) == "Please provide a userApiKey/userSecretKey pair"
    other = cloud.member("other", cloud.root_id)
    taken = cloud.call(
        cloud.admin.keys,
        "updateUser",
        id=other.user_id,
        userapikey=chosen.api_key,
        usersecretkey="whatever-secret",
    )
    assert "already exists" in _errortext(taken, 431)
    assert cloud.call(other.keys, "listCapabilities").status == 200


# --- password policy --------------------------------------------------------------------------


def _new_account(cloud: Cloud, username: str, password: str, domain: str) -> dispatch.Answer:
    return cloud.call(
        cloud.admin.keys,
        "createAccount",
        username=username,
        password=password,
        email=f"{username}@example.org",
        firstname="Po",
        lastname="Licy",
        accounttype="0",
        domainid=domain,
    )


POLICY_REFUSALS = [
    ("password.policy.minimum.special.characters", "2", "Abc-def12", "[2] special characters"),
    ("password.policy.minimum.uppercase.letters", "2", "Abc-def12", "[2] upper case letters"),
    ("password.policy.minimum.lowercase.letters", "7", "Abc-def12", "[7] lower case letters"),
    ("password.policy.minimum.digits", "3", "Abc-def12", "[3] digits"),
    ("password.policy.minimum.length", "12", "Abc-def12", "[12] characters"),
]


def test_password_policy_refuses_weak_passwords(cloud: Cloud) -> None:
    strict = cloud.domain("Policed")
    for number, (name, value, weak, wording) in enumerate(POLICY_REFUSALS):
        _set(cloud, name, value, domainid=strict)
        refused = _new_account(cloud, f"weak{number}", weak, strict)
        assert _errortext(refused, 431) == f"User password should contain at least {wording}."
        # The same password passes in another domain: the setting is the domain's.
        assert _new_account(cloud, f"free{number}", weak, cloud.root_id).status == 200
        _set(cloud, name, "0", domainid=strict)
    assert not any("weak" in row for row in cloud.rows()["account"])  # nothing half-written


def test_password_policy_username_and_regex(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud
    _set(cloud, "password.policy.allowPasswordToContainUsername", "false")
    refused = _new_account(cloud, "carla", "my-CARLA-pw", cloud.root_id)
    assert _errortext(refused, 431) == "User password should not contain their username."
    _set(cloud, "password.policy.regex", "[a-z]+[0-9]+")
    refused = _new_account(cloud, "dirk", "letters-only", cloud.root_id)
    assert _errortext(refused, 431) == "User password does not match with password policy regex."
    assert _new_account(cloud, "dirk", "abc123", cloud.root_id).status == 200
    # updateUser and createUser are held to the same policy.
    dirk = cloud.ok(cloud.admin.keys, "listUsers", username="dirk")["user"][0]
    answer = cloud.call(cloud.admin.keys, "updateUser", id=dirk["id"], password="ABC")
    assert _errortext(answer, 431) == "User password does not match with password policy regex."


# --- lockUser, disableUser, enableUser --------------------------------------------------------


def _user_row(cloud: Cloud, member: Member) -> tuple[str, str]:
    with cloud.sessions() as session:
        user, account = session.execute(
            sa.select(models.User, models.Account)
            .join(models.Account, models.Account.id == models.User.account_id)
            .where(models.User.uuid == member.user_id)
        ).one()
        return user.state, account.state


def _job_user(cloud: Cloud, answer: dispatch.Answer) -> dict[str, Any]:
    job = cloud.job(cloud.admin.keys, answer)
    assert job["jobstatus"] == 1, job
    user: dict[str, Any] = job["jobresult"]["user"]
    return user


def test_disable_user_is_async_and_stops_keys_sessions_and_logins(cloud: Cloud) -> None:
    member = cloud.member("dis", cloud.root_id)
    session = cloud.login(member.username, member.domain_id)
    answer = cloud.call(cloud.admin.keys, "disableUser", id=member.user_id)
    assert "jobid" in content(answer)
    assert _job_user(cloud, answer)["state"] == "disabled"
    assert _user_row(cloud, member) == ("disabled", "enabled")
    assert cloud.call(member.keys, "listCapabilities").status == 401
    assert _in(cloud, session, "listCapabilities").status == 401
    assert cloud.login(member.username, member.domain_id).status == 531
    enabled = cloud.ok(cloud.admin.keys, "enableUser", id=member.user_id)["user"]
    assert enabled["state"] == "enabled"
    assert cloud.call(member.keys, "listCapabilities").status == 200
    assert cloud.login(member.username, member.domain_id).status == 200


def test_lock_user_locks_the_account_with_its_last_enabled_user(cloud: Cloud) -> None:
    first = cloud.member("lockme", cloud.root_id)
    second = _colleague(cloud, first, "lockme2")
    locked = cloud.ok(cloud.admin.keys, "lockUser", id=first.user_id)["user"]
    assert locked["state"] == "locked"
    assert _user_row(cloud, first) == ("locked", "enabled")
    assert cloud.call(first.keys, "listCapabilities").status == 401
    assert cloud.call(second.keys, "listCapabilities").status == 200
    cloud.ok(cloud.admin.keys, "lockUser", id=second.user_id)
    assert _user_row(cloud, second) == ("locked", "locked")
    # Locking a locked user changes nothing; enableUser enables the account too.
    assert cloud.ok(cloud.admin.keys, "lockUser", id=second.user_id)["user"]["state"] == "locked"
    cloud.ok(cloud.admin.keys, "enableUser", id=second.user_id)
    assert _user_row(cloud, second) == ("enabled", "enabled")


def test_lock_refuses_a_disabled_user_the_caller_and_the_system_user(
    sqlite_cloud: Cloud,
) -> None:
    cloud = sqlite_cloud
    member = cloud.member("lockless", cloud.root_id)
    cloud.outcome(cloud.admin.keys, cloud.call(cloud.admin.keys, "disableUser", id=member.user_id))
    assert "only an enabled user" in _errortext(
        cloud.call(cloud.admin.keys, "lockUser", id=member.user_id), 431
    )
    own = cloud.call(cloud.admin.keys, "lockUser", id=cloud.admin.user_id)
    assert _errortext(own, 431) == "The caller cannot apply locking to itself"
    with cloud.sessions() as session:
        system_uuid = session.scalars(sa.select(models.User.uuid).where(models.User.id == 1)).one()
    assert "system user" in _errortext(
        cloud.call(cloud.admin.keys, "lockUser", id=system_uuid), 431
    )
    unknown = cloud.call(cloud.admin.keys, "enableUser", id="00000000-0000-0000-0000-000000000000")
    assert unknown.status == 431


def test_a_domain_admin_cannot_disable_a_root_admin_nor_a_peer(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud
    root_da = cloud.member("rda", cloud.root_id, account_type=2)
    peer = cloud.member("rda2", cloud.root_id, account_type=2)
    user = cloud.member("plain", cloud.root_id)
    # The root admin is out of a domain admin's reach: answered as a missing user (431); a
    # peer is in reach but of the same role type: refused (531).
    for target, refused in ((cloud.admin, 431), (peer, 531)):
        for command in ("lockUser", "disableUser", "enableUser"):
            answer = cloud.call(root_da.keys, command, id=target.user_id)
            assert answer.status == refused, (command, target.username, answer.body)
    assert _user_row(cloud, cloud.admin) == ("enabled", "enabled")
    assert cloud.ok(root_da.keys, "lockUser", id=user.user_id)["user"]["state"] == "locked"
    # A plain user may not call them at all.
    assert cloud.call(user.keys, "enableUser", id=user.user_id).status == 401


def test_enable_user_lets_a_locked_out_user_in_again(cloud: Cloud) -> None:
    member = cloud.member("again", cloud.root_id)
    for _ in range(5):
        cloud.login(member.username, member.domain_id, "wrong-password")
    assert _user_row(cloud, member) == ("disabled", "enabled")
    cloud.ok(cloud.admin.keys, "enableUser", id=member.user_id)
    with cloud.sessions() as session:
        row = session.scalars(sa.select(models.User).where(models.User.uuid == member.user_id))
        assert row.one().incorrect_login_attempts == 0
    assert cloud.login(member.username, member.domain_id).status == 200


def test_parallel_choices_of_one_api_key_leave_one_winner(cloud: Cloud) -> None:
    members = [cloud.member(f"racer{number}", cloud.root_id) for number in range(6)]
    chosen = Keys("contested-api-key-" + "c" * 40, "contested-secret-" + "d" * 40)

    def choose(member: Member) -> int:
        answer = cloud.call(
            cloud.admin.keys,
            "updateUser",
            id=member.user_id,
            userapikey=chosen.api_key,
            usersecretkey=chosen.secret_key,
        )
        return answer.status

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(choose, members))
    assert statuses == [200, 431, 431, 431, 431, 431]
    assert cloud.call(chosen, "listCapabilities").status == 200
