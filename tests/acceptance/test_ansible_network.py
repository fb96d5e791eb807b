"""ngine_io.cloudstack's network modules converge against the demo cloud of a real
``cirrostack serve --demo`` process: cs_physical_network, cs_traffic_type,
cs_network_offering, cs_network and cs_vlan_ip_range (playbook ``ansible/network.yml``). Every
state is asked twice in a row: the first of a pair changes, the second changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cs import CloudStack

from tests.acceptance.conftest import Server, start_server, stop_server
from tests.acceptance.test_ansible import run_playbook
from tests.acceptance.test_ansible_storage import _assert_pairs

pytestmark = pytest.mark.acceptance

TASKS = tuple(
    name
    for base in (
        "Physical network",
        "Physical network enabled",
        "Guest traffic",
        "Guest traffic relabelled",
        "Network offering",
        "Shared network",
        "Extra range",
        "Extra range absent",
        "Shared network absent",
        "Network offering absent",
    )
    for name in (base, f"{base} again")
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("ansible-network") / "var", extra=["--demo"])
    yield running
    stop_server(running)


def test_network_modules_converge(demo: Server, tmp_path: Path) -> None:
    results = run_playbook(demo, tmp_path, "network.yml", TASKS)
    _assert_pairs(results)
    assert results["Physical network"]["vlan"] == "200-299"
    assert results["Physical network enabled"]["state"] == "Enabled"
    assert results["Guest traffic relabelled"]["kvm_networklabel"] == "cloudbr2"
    assert results["Network offering"]["state"] == "Enabled"
    shared = results["Shared network"]
    assert shared["cidr"] == "10.50.0.0/24" and shared["network_offering"] == "ansible-configdrive"
    assert results["Extra range"]["start_ip"] == "10.50.0.100"

    api = CloudStack(endpoint=demo.url, key=demo.api_key, secret=demo.secret_key)
    names = [n["name"] for n in api.listNetworks(listall=True).get("network", [])]
    assert "ansible-shared" not in names and "Sandbox-simulator-shared" in names
    assert api.listNetworkOfferings(name="ansible-configdrive").get("networkoffering") is None
    providers = api.listNetworkServiceProviders(name="ConfigDrive")["networkserviceprovider"]
    assert {p["state"] for p in providers} == {"Enabled"}
