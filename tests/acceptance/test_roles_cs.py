"""Dynamic roles with the real ``cs`` client over HTTP: a custom role that denies a command
stops a user of that role calling it, on the very next request, and limits are listed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("roles") / "var")
    yield running
    stop_server(running)


def _client(server: Server, key: str, secret: str) -> CloudStack:
    return CloudStack(endpoint=server.url, key=key, secret=secret, fetch_result=True)


def test_a_custom_role_denying_a_command_stops_its_users(server: Server) -> None:
    admin = _client(server, server.api_key, server.secret_key)
    role = admin.createRole(name="No zones", type="User", description="cannot list zones")["role"]
    deny = admin.createRolePermission(roleid=role["id"], rule="listZones", permission="deny")
    admin.createRolePermission(roleid=role["id"], rule="*", permission="allow")
    rules = admin.listRolePermissions(roleid=role["id"])["rolepermission"]
    assert [(rule["rule"], rule["permission"]) for rule in rules] == [
        ("listZones", "deny"),
        ("*", "allow"),
    ]
    domain = admin.listDomains(name="ROOT")["domain"][0]["id"]
    account = admin.createAccount(
        username="nozones",
        password="Pa55-word-for-tests",
        email="n@example.org",
        firstname="No",
        lastname="Zones",
        roleid=role["id"],
        domainid=domain,
    )["account"]
    assert account["rolename"] == "No zones"
    pair = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    user = _client(server, pair["apikey"], pair["secretkey"])
    assert user.listAccounts()["account"][0]["name"] == "nozones"
    with pytest.raises(CloudStackApiException) as refused:
        user.listZones()
    assert refused.value.response.status_code == 401
    # The rule changes; the next call is allowed.
    admin.updateRolePermission(
        roleid=role["id"], ruleid=deny["rolepermission"]["id"], permission="allow"
    )
    assert user.listZones() == {}
    limits = user.listResourceLimits()["resourcelimit"]
    assert {item["resourcetype"]: item["max"] for item in limits}["0"] == 20
    with pytest.raises(CloudStackApiException) as in_use:
        admin.deleteRole(id=role["id"])
    assert in_use.value.response.status_code == 531
