"""The network commands through the dispatcher: physical networks, traffic types, providers,
network offerings, networks, IP ranges, public addresses and the empty rule listings."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.db.models import network as models
from cirrostack.network import nics
from tests import network_world as world
from tests.cloud import Cloud, content


@pytest.fixture
def cloud(sqlite_cloud: Cloud) -> Cloud:
    return sqlite_cloud


def _error(cloud: Cloud, keys: Any, command: str, **named: str) -> tuple[int, str]:
    answer = cloud.call(keys, command, **named)
    if answer.status == 200 and "jobid" in content(answer):
        job = cloud.job(keys, answer)
        assert job["jobstatus"] == 2, job
        return int(job["jobresultcode"]), str(job["jobresult"].get("errortext"))
    assert answer.status != 200, answer.body
    return answer.status, str(content(answer).get("errortext"))


def test_physical_network_lifecycle(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    created = world.finished(
        cloud, "createPhysicalNetwork", name="phy", zoneid=zone, vlan="100-200,300",
        isolationmethods="VLAN", tags="fast,ssd",
    )["physicalnetwork"]  # fmt: skip
    assert created["state"] == "Disabled" and created["vlan"] == "100-200,300"
    assert created["broadcastdomainrange"] == "ZONE" and created["isolationmethods"] == "VLAN"
    assert created["tags"] == "fast,ssd" and created["zoneid"] == zone
    providers = cloud.ok(cloud.admin.keys, "listNetworkServiceProviders",
                         physicalnetworkid=created["id"])["networkserviceprovider"]  # fmt: skip
    by_name = {p["name"]: p for p in providers}
    assert set(by_name) == {"VirtualRouter", "VpcVirtualRouter", "InternalLbVm", "ConfigDrive",
                            "SecurityGroupProvider"}  # fmt: skip
    assert by_name["ConfigDrive"]["state"] == "Enabled"
    assert by_name["ConfigDrive"]["servicelist"] == ["UserData"]
    assert "Dhcp" in by_name["VirtualRouter"]["servicelist"]
    updated = world.finished(cloud, "updateNetworkServiceProvider",
                             id=by_name["VirtualRouter"]["id"], state="Enabled")  # fmt: skip
    assert updated["networkserviceprovider"]["state"] == "Enabled"
    guest = world.finished(cloud, "addTrafficType", physicalnetworkid=created["id"],
                           traffictype="guest", kvmnetworklabel="cloudbr1")  # fmt: skip
    assert guest["traffictype"]["traffictype"] == "Guest"
    assert guest["traffictype"]["kvmnetworklabel"] == "cloudbr1"
    code, text = _error(cloud, cloud.admin.keys, "addTrafficType",
                        physicalnetworkid=created["id"], traffictype="Guest")  # fmt: skip
    assert code == 431 and "already added" in text
    listed = cloud.ok(cloud.admin.keys, "listTrafficTypes", physicalnetworkid=created["id"])
    assert [t["traffictype"] for t in listed["traffictype"]] == ["Guest"]
    enabled = world.finished(cloud, "updatePhysicalNetwork", id=created["id"], state="Enabled")
    assert enabled["physicalnetwork"]["state"] == "Enabled"
    world.shared_network(cloud, zone)
    code, text = _error(cloud, cloud.admin.keys, "deletePhysicalNetwork", id=created["id"])
    assert code == 536 and "1 network(s)" in text
    code, text = _error(cloud, cloud.admin.keys, "deleteTrafficType", id=guest["traffictype"]["id"])
    assert code == 536
    services = cloud.ok(cloud.admin.keys, "listSupportedNetworkServices", provider="ConfigDrive")
    assert [s["name"] for s in services["networkservice"]] == ["UserData"]


def test_a_physical_network_without_networks_is_deleted(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    physical = world.guest_physical_network(cloud, zone)
    world.finished(cloud, "deletePhysicalNetwork", id=physical)
    assert cloud.ok(cloud.admin.keys, "listPhysicalNetworks") == {}


def test_seeded_offerings_and_their_filters(cloud: Cloud) -> None:
    listed = cloud.ok(cloud.admin.keys, "listNetworkOfferings")["networkoffering"]
    names = {o["name"] for o in listed}
    assert {"DefaultSharedNetworkOffering", "DefaultL2NetworkOffering", "QuickCloudNoServices",
            "DefaultIsolatedNetworkOfferingWithSourceNatService"} <= names  # fmt: skip
    assert not any(name.startswith("System-") for name in names)
    required = [o for o in listed if o["availability"] == "Required"]
    assert [o["name"] for o in required] == ["DefaultIsolatedNetworkOfferingWithSourceNatService"]
    assert all("serviceofferingid" in o and "forvpc" in o for o in listed)
    l2 = cloud.ok(cloud.admin.keys, "listNetworkOfferings", guestiptype="L2")["networkoffering"]
    assert {o["guestiptype"] for o in l2} == {"L2"} and len(l2) == 4
    nat = cloud.ok(cloud.admin.keys, "listNetworkOfferings", supportedservices="SourceNat")
    assert all(o["guestiptype"] == "Isolated" for o in nat["networkoffering"])
    vpc = cloud.ok(cloud.admin.keys, "listNetworkOfferings", forvpc="true")["networkoffering"]
    assert vpc and all(o["forvpc"] for o in vpc)


def test_network_offering_create_update_delete(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    created = cloud.ok(
        admin, "createNetworkOffering", name="cd", displaytext="config drive", guestiptype="L2",
        traffictype="GUEST", supportedservices="UserData",
        **{"serviceproviderlist[0].service": "UserData",
           "serviceproviderlist[0].provider": "ConfigDrive"},
    )["networkoffering"]  # fmt: skip
    assert created["state"] == "Disabled" and created["isdefault"] is False
    assert created["service"] == [
        {"name": "UserData", "provider": [{"name": "ConfigDrive"}], "capability": []}
    ]
    code, text = _error(cloud, admin, "createNetworkOffering", name="CD", displaytext="x",
                        guestiptype="L2", traffictype="GUEST")  # fmt: skip
    assert code == 431 and "already exists" in text
    user = cloud.member("u", cloud.domain("D"))
    assert "cd" not in {
        o["name"] for o in cloud.ok(user.keys, "listNetworkOfferings")["networkoffering"]
    }
    enabled = cloud.ok(admin, "updateNetworkOffering", id=created["id"], state="Enabled",
                       displaytext="renamed")["networkoffering"]  # fmt: skip
    assert enabled["state"] == "Enabled" and enabled["displaytext"] == "renamed"
    seeded = world.offering_id(cloud, "DefaultL2NetworkOffering")
    code, text = _error(cloud, admin, "deleteNetworkOffering", id=seeded)
    assert code == 431 and "Default network offering" in text
    assert cloud.ok(admin, "deleteNetworkOffering", id=created["id"]) == {"success": True}
    assert cloud.ok(admin, "listNetworkOfferings", name="cd") == {}


def test_network_update_delete_and_refusals(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    admin = cloud.admin.keys
    shared = world.offering_id(cloud, "DefaultSharedNetworkOffering")
    code, text = _error(cloud, admin, "createNetwork", name="n", zoneid=zone,
                        networkofferingid=shared)  # fmt: skip
    assert code == 431 and "vlan is required" in text
    code, text = _error(cloud, admin, "createNetwork", name="n", zoneid=zone, vlan="5000",
                        networkofferingid=shared)  # fmt: skip
    assert code == 431 and "VLAN id" in text
    code, text = _error(cloud, admin, "createNetwork", name="n", zoneid=zone, vlan="5",
                        networkofferingid=shared, gateway="10.0.0.1", netmask="255.255.255.0",
                        startip="10.0.1.5")  # fmt: skip
    assert code == 431 and "startip" in text
    network = world.shared_network(cloud, zone)
    renamed = world.finished(cloud, "updateNetwork", id=network["id"], name="renamed",
                             displaytext="shown")["network"]  # fmt: skip
    assert renamed["name"] == "renamed" and renamed["displaytext"] == "shown"
    user = cloud.member("u", cloud.domain("D"))
    code, _text = _error(cloud, user.keys, "deleteNetwork", id=network["id"])
    assert code == 531
    world.finished(cloud, "deleteNetwork", id=network["id"])
    assert cloud.ok(admin, "listNetworks", listall="true") == {}
    assert cloud.ok(admin, "listVlanIpRanges") == {}


def test_user_networks_are_private_to_their_account(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    domain = cloud.domain("D")
    alice, bob = cloud.member("alice", domain), cloud.member("bob", domain)
    created = cloud.ok(
        alice.keys, "createNetwork", name="mine", zoneid=zone,
        networkofferingid=world.offering_id(cloud, "DefaultL2NetworkOffering"),
    )["network"]  # fmt: skip
    assert created["account"] == "alice" and created["state"] == "Allocated"
    assert [n["id"] for n in cloud.ok(alice.keys, "listNetworks")["network"]] == [created["id"]]
    assert cloud.ok(bob.keys, "listNetworks") == {}
    code, text = _error(cloud, bob.keys, "updateNetwork", id=created["id"], name="x")
    assert code == 431 and text == f"Unable to find network by id {created['id']}"
    shared = world.offering_id(cloud, "DefaultSharedNetworkOffering")
    code, _text = _error(cloud, alice.keys, "createNetwork", name="s", zoneid=zone, vlan="9",
                         networkofferingid=shared)  # fmt: skip
    assert code == 531
    all_of_them = cloud.ok(cloud.admin.keys, "listNetworks", listall="true")["network"]
    assert [n["id"] for n in all_of_them] == [created["id"]]


def test_ip_ranges_of_a_shared_network(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    world.service_offering(cloud)
    admin = cloud.admin.keys
    network = world.shared_network(cloud, zone, startip="10.1.1.100", endip="10.1.1.110")
    second = cloud.ok(admin, "createVlanIpRange", networkid=network["id"], vlan="100",
                      startip="10.1.1.150", endip="10.1.1.160", gateway="10.1.1.1",
                      netmask="255.255.255.0")["vlan"]  # fmt: skip
    assert second["startip"] == "10.1.1.150" and second["endip"] == "10.1.1.160"
    assert second["forvirtualnetwork"] is False and second["vlan"] == "100"
    assert second["networkid"] == network["id"]
    code, text = _error(cloud, admin, "createVlanIpRange", networkid=network["id"],
                        startip="10.1.1.105", endip="10.1.1.120")  # fmt: skip
    assert code == 431 and "overlaps" in text
    code, text = _error(cloud, admin, "createVlanIpRange", networkid=network["id"],
                        startip="10.2.0.5", gateway="10.2.0.1",
                        netmask="255.255.255.0")  # fmt: skip
    assert code == 431 and "differ" in text
    listed = cloud.ok(admin, "listVlanIpRanges", networkid=network["id"])["vlaniprange"]
    assert [(r["startip"], r["endip"]) for r in listed] == [
        ("10.1.1.100", "10.1.1.110"),
        ("10.1.1.150", "10.1.1.160"),
    ]

    with cloud.sessions() as session:
        row = session.scalars(
            sa.select(models.Network).where(models.Network.uuid == network["id"])
        ).one()
        vm = world.vm_rows(session, zone, 2, 1)[0]
        nics.allocate(session, vm_id=vm, vm_type="User", network=row, device_id=0, default=True,
                      requested_ip="10.1.1.155")  # fmt: skip
        session.commit()
    code, text = _error(cloud, admin, "deleteVlanIpRange", id=second["id"])
    assert code == 536 and "allocated" in text
    first = listed[0]["id"]
    assert cloud.ok(admin, "deleteVlanIpRange", id=first) == {"success": True}
    assert [r["id"] for r in cloud.ok(admin, "listVlanIpRanges")["vlaniprange"]] == [second["id"]]


def test_public_range_and_public_addresses(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    admin = cloud.admin.keys
    code, text = _error(cloud, admin, "createVlanIpRange", zoneid=zone, forvirtualnetwork="true",
                        gateway="192.0.2.1", netmask="255.255.255.0",
                        startip="192.0.2.10")  # fmt: skip
    assert code == 431 and "Public traffic" in text
    physical = world.guest_physical_network(cloud, zone)
    world.finished(cloud, "addTrafficType", physicalnetworkid=physical, traffictype="Public")
    created = cloud.ok(admin, "createVlanIpRange", zoneid=zone, forvirtualnetwork="true",
                       vlan="untagged", gateway="192.0.2.1", netmask="255.255.255.0",
                       startip="192.0.2.10", endip="192.0.2.14")["vlan"]  # fmt: skip
    assert created["forvirtualnetwork"] is True and created["vlan"] == "untagged"
    # Nothing is associated without routers: the default (allocated only) list is empty.
    assert cloud.ok(admin, "listPublicIpAddresses") == {}
    free = cloud.ok(admin, "listPublicIpAddresses", allocatedonly="false")["publicipaddress"]
    assert [a["ipaddress"] for a in free] == [f"192.0.2.{n}" for n in range(10, 15)]
    assert free[0]["state"] == "Free" and free[0]["vlanname"] == "untagged"
    assert free[0]["forvirtualnetwork"] is True and free[0]["tags"] == []
    user = cloud.member("u", cloud.domain("D"))
    assert cloud.ok(user.keys, "listPublicIpAddresses", allocatedonly="false") == {}
    # A guest network's addresses are not public ones.
    world.shared_network(cloud, zone)
    assert (
        len(cloud.ok(admin, "listPublicIpAddresses", allocatedonly="false")["publicipaddress"]) == 5
    )


@pytest.mark.parametrize(
    "command",
    ["listPortForwardingRules", "listIpForwardingRules", "listFirewallRules",
     "listEgressFirewallRules", "listLoadBalancerRules", "listRouters"],
)  # fmt: skip
def test_router_rule_listings_are_empty(cloud: Cloud, command: str) -> None:
    assert cloud.ok(cloud.admin.keys, command) == {}


def test_list_networks_filters_and_domain_access(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    admin = cloud.admin.keys
    parent = cloud.domain("P")
    child = cloud.domain("C", parent)
    closed = cloud.ok(
        admin, "createNetwork", name="Closed-Net", zoneid=zone, vlan="20", domainid=parent,
        subdomainaccess="false",
        networkofferingid=world.offering_id(cloud, "QuickCloudNoServices"),
    )["network"]  # fmt: skip
    assert closed["subdomainaccess"] is False and closed["domainid"] == parent
    plain = world.offering_id(cloud, "DefaultL2NetworkOffering")
    l2 = cloud.ok(admin, "createNetwork", name="plain", zoneid=zone, networkofferingid=plain)
    in_parent, in_child = cloud.member("p1", parent), cloud.member("c1", child)
    assert [n["id"] for n in cloud.ok(in_parent.keys, "listNetworks")["network"]] == [closed["id"]]
    assert cloud.ok(in_child.keys, "listNetworks") == {}
    code, _text = _error(cloud, in_child.keys, "listNetworkOfferings", networkid=closed["id"])
    assert code == 431
    by_name = cloud.ok(admin, "listNetworks", name="closed-net", listall="true")["network"]
    assert [n["id"] for n in by_name] == [closed["id"]]
    shared = cloud.ok(admin, "listNetworks", type="shared", listall="true")["network"]
    assert [n["id"] for n in shared] == [closed["id"]]
    keyword = cloud.ok(admin, "listNetworks", keyword="PLA", listall="true")["network"]
    assert [n["id"] for n in keyword] == [l2["network"]["id"]]
    assert cloud.ok(admin, "listNetworks", issystem="true", listall="true") == {}
