"""What real clients expect of zones and simulated hosts (issue 6, finding 13): a Basic zone has
security groups, as CloudStack forces; simulated hosts are named as CloudStack's simulator names
them, so the URLs every simulator zone config uses (http://sim/c0/h0, http://sim/c0/h1) add
several hosts behind one URL host."""

from __future__ import annotations

import re

from tests.cloud import Cloud
from tests.conftest import Database

ZONE = {"dns1": "8.8.8.8", "internaldns1": "10.0.0.1"}


def test_a_basic_zone_answers_security_groups_enabled(sqlite_database: Database) -> None:
    cloud = Cloud(sqlite_database.sessions)
    admin = cloud.admin.keys
    basic = cloud.ok(admin, "createZone", name="b", networktype="Basic", **ZONE)["zone"]
    advanced = cloud.ok(admin, "createZone", name="a", networktype="Advanced", **ZONE)["zone"]
    assert (basic["securitygroupsenabled"], advanced["securitygroupsenabled"]) == (True, False)
    listed = cloud.ok(admin, "listZones", id=basic["id"])["zone"][0]
    assert listed["securitygroupsenabled"] is True


def test_several_simulated_hosts_behind_one_url_host(sqlite_database: Database) -> None:
    cloud = Cloud(sqlite_database.sessions)
    admin = cloud.admin.keys
    zone = cloud.ok(admin, "createZone", name="z", networktype="Advanced", **ZONE)["zone"]
    pod = cloud.ok(admin, "createPod", name="p", zoneid=zone["id"], gateway="172.16.0.1",
                   netmask="255.255.255.0", startip="172.16.0.10",
                   endip="172.16.0.20")["pod"]  # fmt: skip
    names = []
    for url in ("http://sim/c0/h0", "http://sim/c0/h1"):
        added = cloud.ok(admin, "addHost", zoneid=zone["id"], podid=pod["id"], clustername="c0",
                         hypervisor="Simulator", url=url, username="root",
                         password="password")["host"][0]  # fmt: skip
        assert added["state"] == "Up"
        names.append(added["name"])
    guid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert all(re.fullmatch(f"SimulatedAgent\\.{guid}", name) for name in names), names
    assert len(set(names)) == 2
    assert cloud.ok(admin, "listHosts", zoneid=zone["id"])["count"] == 2
