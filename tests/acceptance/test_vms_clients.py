"""VMs through unchanged clients against a real ``serve --demo`` process: ``cs`` as a new user
types it (deployVirtualMachine, list, stop, start, destroy expunge=true) and apache-libcloud's
node calls (list_sizes, list_images, list_locations, create_node, list_nodes, reboot_node,
destroy_node)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cs import CloudStack

from cirrostack import demo, demo_network
from tests.acceptance.conftest import Server, start_server, stop_server
from tests.acceptance.test_clients_cs import client
from tests.acceptance.test_clients_libcloud import driver_for

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("vms") / "var", extra=["--demo"])
    yield running
    stop_server(running)


@pytest.fixture
def admin(cloud: Server) -> CloudStack:
    return client(cloud, cloud.api_key, cloud.secret_key)


def test_cs_deploys_lists_stops_starts_and_destroys_a_vm(admin: CloudStack) -> None:
    [zone] = admin.listZones(name=demo.ZONE)["zone"]
    [small] = admin.listServiceOfferings(name="Small Instance")["serviceoffering"]
    template = admin.listTemplates(templatefilter="featured")["template"][0]
    deployed = admin.deployVirtualMachine(
        zoneid=zone["id"], serviceofferingid=small["id"], templateid=template["id"], name="web-1"
    )["virtualmachine"]
    assert deployed["state"] == "Running" and deployed["name"] == "web-1"
    [nic] = deployed["nic"]
    assert nic["networkname"] == demo_network.NETWORK and nic["ipaddress"]
    [listed] = admin.listVirtualMachines(id=deployed["id"])["virtualmachine"]
    assert listed["hostid"] and listed["zonename"] == demo.ZONE
    assert admin.stopVirtualMachine(id=deployed["id"])["virtualmachine"]["state"] == "Stopped"
    assert admin.startVirtualMachine(id=deployed["id"])["virtualmachine"]["state"] == "Running"
    admin.destroyVirtualMachine(id=deployed["id"], expunge=True)
    assert admin.listVirtualMachines(id=deployed["id"]) == {}


def test_libcloud_creates_lists_reboots_and_destroys_a_node(cloud: Server) -> None:
    driver = driver_for(cloud)
    size = next(s for s in driver.list_sizes() if s.name == "Small Instance")
    image = driver.list_images()[0]
    location = next(loc for loc in driver.list_locations() if loc.name == demo.ZONE)
    node = driver.create_node(name="node-1", size=size, image=image, location=location)
    assert node.name == "node-1"
    [found] = [n for n in driver.list_nodes() if n.id == node.id]
    assert found.private_ips or found.public_ips
    assert found.state == "stopped"  # libcloud deploys with startvm=false
    assert driver.ex_start(found) == "Running"
    assert driver.reboot_node(found) is True
    assert driver.destroy_node(found) is True
    assert all(n.id != node.id or n.state != "running" for n in driver.list_nodes())
