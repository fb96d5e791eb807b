"""Logins and passwords with real clients over real HTTP: lockout, currentpassword, sessions
ending, password policy, and lockUser / disableUser / enableUser through ``cs``.

The probe found that 60 wrong passwords and then the right one logged in, that a user changed
its own password without the current one, and that lockUser, disableUser and enableUser were
unknown commands (the Ansible collection's cs_user module calls them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance

PASSWORD = "Acceptance-pw-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("users") / "var")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def admin(cloud: Server) -> CloudStack:
    return CloudStack(
        endpoint=cloud.url, key=cloud.api_key, secret=cloud.secret_key, fetch_result=True
    )


def new_user(admin: CloudStack, username: str, password: str = PASSWORD) -> dict[str, Any]:
    account = admin.createAccount(
        username=username,
        password=password,
        email=f"{username}@example.org",
        firstname="Ac",
        lastname="Ceptance",
        accounttype=0,
    )["account"]
    return dict(account["user"][0])


def login(cloud: Server, username: str, password: str) -> httpx.Response:
    """cloudmonkey's login: a POST with the parameters in the query string, domain ROOT."""
    params = {
        "command": "login",
        "response": "json",
        "username": username,
        "password": password,
        "domain": "/",
    }
    return httpx.post(cloud.url, params=params)


def as_user(cloud: Server, admin: CloudStack, user: dict[str, Any]) -> CloudStack:
    keys = admin.registerUserKeys(id=user["id"])["userkeys"]
    return CloudStack(
        endpoint=cloud.url, key=keys["apikey"], secret=keys["secretkey"], fetch_result=True
    )


def refusal(call: Any, **named: Any) -> tuple[int, str]:
    with pytest.raises(CloudStackApiException) as refused:
        call(**named)
    return int(refused.value.response.status_code), str(refused.value.error.get("errortext"))


def test_five_wrong_passwords_lock_a_user_out_until_enabled(
    cloud: Server, admin: CloudStack
) -> None:
    user = new_user(admin, "guessme")
    for _ in range(5):
        assert login(cloud, "guessme", "wrong").status_code == 531
    assert login(cloud, "guessme", PASSWORD).status_code == 531
    [listed] = admin.listUsers(id=user["id"])["user"]
    assert listed["state"] == "disabled"
    assert admin.enableUser(id=user["id"])["user"]["state"] == "enabled"
    assert login(cloud, "guessme", PASSWORD).status_code == 200


def test_a_user_changes_its_password_only_with_the_current_one(
    cloud: Server, admin: CloudStack
) -> None:
    user = new_user(admin, "changer")
    client = as_user(cloud, admin, user)
    other_session = login(cloud, "changer", PASSWORD)
    assert other_session.status_code == 200
    status, text = refusal(client.updateUser, id=user["id"], password="Next-pw-2")
    assert (status, text) == (431, "To set a new password the current password must be provided.")
    client.updateUser(id=user["id"], password="Next-pw-2", currentpassword=PASSWORD)
    assert login(cloud, "changer", "Next-pw-2").status_code == 200
    # The session opened before the change has ended.
    key = other_session.json()["loginresponse"]["sessionkey"]
    ended = httpx.get(
        cloud.url,
        params={"command": "listCapabilities", "response": "json", "sessionkey": key},
        cookies=other_session.cookies,
    )
    assert ended.status_code == 401


def test_disable_lock_and_enable_user_with_cs(cloud: Server, admin: CloudStack) -> None:
    user = new_user(admin, "switched")
    client = as_user(cloud, admin, user)
    assert client.listCapabilities()
    disabled = admin.disableUser(id=user["id"])  # async: cs polls the job
    assert disabled["user"]["state"] == "disabled"
    assert refusal(client.listCapabilities)[0] == 401
    assert admin.enableUser(id=user["id"])["user"]["state"] == "enabled"
    assert client.listCapabilities()
    assert admin.lockUser(id=user["id"])["user"]["state"] == "locked"
    assert refusal(client.listCapabilities)[0] == 401
    assert login(cloud, "switched", PASSWORD).status_code == 531
    admin.enableUser(id=user["id"])
    assert login(cloud, "switched", PASSWORD).status_code == 200


def test_password_policy_with_cs(admin: CloudStack) -> None:
    admin.updateConfiguration(name="password.policy.minimum.length", value="16")
    try:
        status, text = refusal(
            admin.createAccount,
            username="shorty",
            password="Short-pw-1",
            email="s@example.org",
            firstname="Sh",
            lastname="Orty",
            accounttype=0,
        )
        assert (status, text) == (431, "User password should contain at least [16] characters.")
        assert new_user(admin, "longer", "Long-enough-password-1")["username"] == "longer"
    finally:
        admin.updateConfiguration(name="password.policy.minimum.length", value="0")
