"""Configuration and events with the real ``cs`` client against a real server over HTTP.

``present`` does what Ansible's ``cs_configuration`` module does with ``cs``: list the
configuration by name (``fetch_list``), compare ``value`` as text, and update only when it
differs. Running it twice must report a change once, then none.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server, client_env, start_server, stop_server
from tests.acceptance.test_smoke import cs_cli

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module: the tests touch different settings and accounts."""
    running = start_server(tmp_path_factory.mktemp("config") / "var")
    yield running
    stop_server(running)


def present(api: CloudStack, name: str, value: object, **scope: str) -> bool:
    """Ansible cs_configuration's present_configuration; True when it changed something."""
    found = api.listConfigurations(name=name, fetch_list=True, **scope)
    [current] = [item for item in found if item["name"] == name]
    wanted = str(value)
    if wanted in ("True", "False"):
        wanted = wanted.lower()
    if current.get("value") == wanted:
        return False
    answer = api.updateConfiguration(name=name, value=wanted, **scope)
    assert answer["configuration"]["value"] == wanted
    return True


def test_configuration_and_its_event_through_cs(server: Server) -> None:
    api = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
    assert present(api, "expunge.delay", 120) is True
    assert present(api, "expunge.delay", 120) is False
    assert present(api, "cluster.threshold.enabled", False) is True
    assert present(api, "cluster.threshold.enabled", False) is False

    with pytest.raises(CloudStackApiException) as caught:
        api.updateConfiguration(name="storage.overprovisioning.factor", value="plenty")
    assert caught.value.response.status_code == 431
    error: dict[str, Any] = caught.value.error
    assert "storage.overprovisioning.factor" in error["errortext"]
    assert "decimal number" in error["errortext"]

    edits = api.listEvents(type="CONFIGURATION.VALUE.EDIT", level="INFO")
    assert edits["count"] == 2
    assert {event["username"] for event in edits["event"]} == {"admin"}
    [refused] = api.listEvents(type="CONFIGURATION.VALUE.EDIT", level="ERROR")["event"]
    assert "storage.overprovisioning.factor" in refused["description"]
    names = {item["name"] for item in api.listEventTypes(fetch_list=True)}
    assert {"CONFIGURATION.VALUE.EDIT", "ACCOUNT.CREATE", "VM.STATE"} <= names


def test_a_new_user_sees_only_its_own_events(server: Server) -> None:
    admin = CloudStack(
        endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )
    domain = admin.createDomain(name="eventful")["domain"]
    account = admin.createAccount(
        username="watcher",
        password="Pa55-word-for-tests",
        email="watcher@example.org",
        firstname="Watcher",
        lastname="Tester",
        domainid=domain["id"],
        accounttype=0,
    )["account"]
    user_id = account["user"][0]["id"]
    pair = admin.registerUserKeys(id=user_id)["userkeys"]
    as_user = CloudStack(endpoint=server.url, key=pair["apikey"], secret=pair["secretkey"])
    as_user.updateUser(id=user_id, firstname="Still watching")
    own = as_user.listEvents(listall=True)
    assert {event["account"] for event in own["event"]} == {"watcher"}
    assert {event["type"] for event in own["event"]} == {"USER.UPDATE"}
    everything = admin.listEvents(listall=True, fetch_list=True)
    assert {"ACCOUNT.CREATE", "USER.UPDATE", "DOMAIN.CREATE"} <= {e["type"] for e in everything}


def test_cs_cli_lists_configurations(server: Server) -> None:
    result = subprocess.run(
        [cs_cli(), "listConfigurations", "name=default.page.size"],
        env=client_env(server),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [item] = json.loads(result.stdout)["configuration"]
    assert (item["name"], item["value"], item["type"]) == ("default.page.size", "500", "Number")
