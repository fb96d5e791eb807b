"""Guest networking through unchanged clients against a real ``serve --demo`` process: ``cs``
(admin and a new user) and apache-libcloud's network calls (ex_list_networks,
ex_list_network_offerings, ex_create_network, ex_delete_network), plus the empty rule listings
libcloud's list_nodes asks for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from cirrostack import demo, demo_network
from tests.acceptance.conftest import Server, start_server, stop_server
from tests.acceptance.test_clients_cs import client, keys_for, new_account
from tests.acceptance.test_clients_libcloud import driver_for

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("networks") / "var", extra=["--demo"])
    yield running
    stop_server(running)


@pytest.fixture
def admin(cloud: Server) -> CloudStack:
    return client(cloud, cloud.api_key, cloud.secret_key)


def _user(cloud: Server, admin: CloudStack, name: str) -> CloudStack:
    [root] = admin.listDomains(name="ROOT")["domain"]
    account = new_account(admin, name, root["id"], 0)
    key, secret = keys_for(admin, account["user"][0]["id"])
    return client(cloud, key, secret)


def test_a_new_user_sees_the_demo_network_and_makes_its_own(
    cloud: Server, admin: CloudStack
) -> None:
    user = _user(cloud, admin, "netuser")
    [shared] = user.listNetworks()["network"]
    assert shared["name"] == demo_network.NETWORK and shared["type"] == "Shared"
    assert "vlan" not in shared and "broadcasturi" not in shared
    [zone] = user.listZones(name=demo.ZONE)["zone"]
    [l2] = user.listNetworkOfferings(name="DefaultL2NetworkOffering")["networkoffering"]
    mine: dict[str, Any] = user.createNetwork(
        name="mine", displaytext="mine", zoneid=zone["id"], networkofferingid=l2["id"]
    )["network"]
    assert mine["type"] == "L2" and mine["account"] == "netuser"
    listed = {n["id"] for n in user.listNetworks(fetch_list=True)}
    assert listed == {shared["id"], mine["id"]}
    with pytest.raises(CloudStackApiException) as refused:
        user.deleteNetwork(id=shared["id"])
    assert "may not change" in str(refused.value.error)
    assert user.deleteNetwork(id=mine["id"])["success"] is True
    assert [n["id"] for n in user.listNetworks(fetch_list=True)] == [shared["id"]]


def test_admin_builds_a_physical_network_and_a_public_range(admin: CloudStack) -> None:
    [zone] = admin.listZones(name=demo.ZONE)["zone"]
    physical = admin.createPhysicalNetwork(name="cs-physical", zoneid=zone["id"])["physicalnetwork"]
    public = admin.addTrafficType(physicalnetworkid=physical["id"], traffictype="Public")
    assert public["traffictype"]["traffictype"] == "Public"
    created = admin.createVlanIpRange(
        zoneid=zone["id"], forvirtualnetwork=True, vlan="untagged", gateway="203.0.113.1",
        netmask="255.255.255.0", startip="203.0.113.10", endip="203.0.113.19",
    )["vlan"]  # fmt: skip
    assert created["forvirtualnetwork"] is True
    free = admin.listPublicIpAddresses(allocatedonly=False)["publicipaddress"]
    assert len(free) == 10 and {a["state"] for a in free} == {"Free"}
    assert admin.listPublicIpAddresses() == {}
    for command in (
        "listPortForwardingRules",
        "listIpForwardingRules",
        "listFirewallRules",
        "listLoadBalancerRules",
        "listEgressFirewallRules",
        "listRouters",
    ):
        assert getattr(admin, command)() == {}  # fmt: skip


def test_libcloud_network_calls(cloud: Server) -> None:
    driver = driver_for(cloud)
    offerings = {o.name: o for o in driver.ex_list_network_offerings()}
    assert {"DefaultSharedNetworkOffering", "DefaultL2NetworkOffering"} <= set(offerings)
    assert offerings["DefaultSharedNetworkOffering"].guest_ip_type == "Shared"
    names = {n.name for n in driver.ex_list_networks()}
    assert demo_network.NETWORK in names
    [location] = [z for z in driver.list_locations() if z.name == demo.ZONE]
    made = driver.ex_create_network(
        display_text="from libcloud",
        name="lc-l2",
        network_offering=offerings["DefaultL2NetworkOffering"],
        location=location,
    )
    assert made.name == "lc-l2" and made.zoneid == location.id
    assert driver.ex_delete_network(made) is True
    assert "lc-l2" not in {n.name for n in driver.ex_list_networks()}
