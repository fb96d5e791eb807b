"""Names compare case-insensitively on every backend, as CloudStack's MySQL collation does
(issue 6, finding 13): every list command's name filter finds its row when asked in another
case, every lookup by name does, and a create in another case is a duplicate (431).

Today's failure this keeps fixed: listClusters name=pz-Cluster found pz-cluster on MariaDB and
nothing on SQLite and PostgreSQL, so an idempotent Ansible playbook created a second cluster.
"""

from __future__ import annotations

from typing import Any

import pytest

from cirrostack.api import auth
from tests.cloud import PASSWORD, Cloud, content
from tests.conftest import Database

HOST_URL = "http://sim/c0/h0"


class Built:
    """One of everything with a mixed-case name, made through the API as the admin."""

    def __init__(self, database: Database) -> None:
        self.cloud = Cloud(database.sessions)
        self.admin = self.cloud.admin.keys
        self.domain_id = self.cloud.domain("Dept")
        self.cloud.member("Alice", self.domain_id)
        zone = self.ok(
            "createZone",
            name="Zone-A",
            dns1="8.8.8.8",
            internaldns1="10.0.0.1",
            networktype="Advanced",
        )["zone"]
        self.zone_id = zone["id"]
        pod = self.ok(
            "createPod",
            name="Pod-A",
            zoneid=self.zone_id,
            gateway="192.168.1.1",
            netmask="255.255.255.0",
            startip="192.168.1.10",
            endip="192.168.1.50",
        )["pod"]
        self.pod_id = pod["id"]
        cluster = self.ok(
            "addCluster",
            clustername="pz-Cluster",
            clustertype="CloudManaged",
            hypervisor="Simulator",
            zoneid=self.zone_id,
            podid=self.pod_id,
        )["cluster"][0]
        self.cluster_id = cluster["id"]
        host = self.ok(
            "addHost",
            zoneid=self.zone_id,
            podid=self.pod_id,
            clusterid=self.cluster_id,
            hypervisor="Simulator",
            url=HOST_URL,
            username="root",
            password="password",
        )["host"][0]
        self.host_name = str(host["name"])
        self.ok(
            "createServiceOffering",
            name="Small-SO",
            displaytext="small",
            cpunumber="1",
            cpuspeed="500",
            memory="512",
        )
        self.ok("createDiskOffering", name="Disk-DO", displaytext="disk", disksize="1")

    def ok(self, command: str, **named: str) -> Any:
        return self.cloud.ok(self.admin, command, **named)

    def error(self, command: str, **named: str) -> tuple[int, str]:
        answer = self.cloud.call(self.admin, command, **named)
        return answer.status, str(content(answer).get("errortext", ""))


@pytest.fixture
def built(database: Database) -> Built:
    return Built(database)


def test_every_list_name_filter_ignores_case(built: Built) -> None:
    asked = {
        ("listDomains", "domain", "name"): {"name": "DEPT", "listall": "true"},
        ("listAccounts", "account", "name"): {"name": "aLICE", "listall": "true"},
        ("listUsers", "user", "username"): {"username": "ALICE", "listall": "true"},
        ("listZones", "zone", "name"): {"name": "zone-a"},
        ("listPods", "pod", "name"): {"name": "POD-a"},
        ("listClusters", "cluster", "name"): {"name": "PZ-cluster"},
        ("listHosts", "host", "name"): {"name": built.host_name.swapcase()},
        ("listServiceOfferings", "serviceoffering", "name"): {"name": "small-so"},
        ("listDiskOfferings", "diskoffering", "name"): {"name": "DISK-do"},
    }
    found = {}
    for (command, key, field), named in asked.items():
        listed = built.ok(command, **named)
        found[command] = [item[field] for item in listed.get(key, [])]
    assert found == {
        "listDomains": ["Dept"],
        "listAccounts": ["Alice"],
        "listUsers": ["Alice"],
        "listZones": ["Zone-A"],
        "listPods": ["Pod-A"],
        "listClusters": ["pz-Cluster"],
        "listHosts": [built.host_name],
        "listServiceOfferings": ["Small-SO"],
        "listDiskOfferings": ["Disk-DO"],
    }


def test_a_name_in_another_case_is_a_duplicate(built: Built) -> None:
    refusals = {
        "createDomain": built.error("createDomain", name="dept"),
        "createAccount": built.error(
            "createAccount",
            username="other",
            account="ALICE",
            password=PASSWORD,
            email="o@x",
            firstname="o",
            lastname="o",
            accounttype="0",
            domainid=built.domain_id,
        ),
        "createUser": built.error(
            "createUser",
            username="aLiCe",
            account="Alice",
            password=PASSWORD,
            email="a@x",
            firstname="a",
            lastname="a",
            domainid=built.domain_id,
        ),
        "createZone": built.error(
            "createZone",
            name="ZONE-A",
            dns1="8.8.8.8",
            internaldns1="10.0.0.1",
            networktype="Advanced",
        ),
        "createPod": built.error(
            "createPod",
            name="pod-a",
            zoneid=built.zone_id,
            gateway="192.168.2.1",
            netmask="255.255.255.0",
            startip="192.168.2.10",
            endip="192.168.2.50",
        ),
        "addCluster": built.error(
            "addCluster",
            clustername="PZ-CLUSTER",
            clustertype="CloudManaged",
            hypervisor="Simulator",
            zoneid=built.zone_id,
            podid=built.pod_id,
        ),
    }
    assert {command: status for command, (status, _) in refusals.items()} == dict.fromkeys(
        refusals, 431
    )
    assert "already exists" in refusals["createUser"][1]


def test_lookups_by_name_ignore_case(built: Built) -> None:
    # The account parameter of createUser names the account in any case.
    created = built.ok(
        "createUser",
        username="bob",
        account="ALICE",
        password=PASSWORD,
        email="b@x",
        firstname="b",
        lastname="b",
        domainid=built.domain_id,
    )
    assert created["user"]["account"] == "Alice"
    # addHost's clustername finds the existing cluster rather than making a second one.
    added = built.ok(
        "addHost",
        zoneid=built.zone_id,
        podid=built.pod_id,
        clustername="PZ-CLUSTER",
        hypervisor="Simulator",
        url="http://sim/c0/h1",
        username="root",
        password="password",
    )
    assert added["host"][0]["clusterid"] == built.cluster_id
    # login: the username and the domain path, in another case.
    pairs = (
        ("command", "login"),
        ("response", "json"),
        ("username", "ALICE"),
        ("password", PASSWORD),
        ("domain", "/DEPT/"),
    )
    answer = built.cloud.dispatcher.handle(auth.Request("POST", pairs, {}))
    assert answer.status == 200, answer.body
    assert content(answer)["username"] == "Alice"


def test_the_seeded_admin_username_is_taken_in_root(built: Built) -> None:
    admin_account = built.ok("listAccounts", name="admin")["account"][0]
    status, text = built.error(
        "createUser", username="ADMIN", account="admin", password=PASSWORD, email="a@x",
        firstname="a", lastname="a", domainid=admin_account["domainid"],
    )  # fmt: skip
    assert (status, "The user ADMIN already exists in domain ROOT" in text) == (431, True)
