"""Every list command costs the same number of SQL statements whatever the page size.

A list that loads related rows one item at a time (N+1) runs more statements for a page of 20
than for a page of 2; one that loads them by joins or IN-batches runs the same number (or one
fewer: a first page that holds every row needs no count query). The
world is built through the API with more than 20 of everything each list shows, with the
related rows every serializer reads (users in accounts, tags and an OS category on hosts,
cluster overrides, offering scopes and details), then every ``list*`` command of the registry
is called at pagesize 2 and pagesize 20 and the statements counted on the engine.

A new list command is covered automatically; if the world holds too few of its rows to tell
2 from 20, the test fails and asks for a seed in ``_build``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from cirrostack import server
from tests.cloud import Cloud, content
from tests.conftest import Database

#: Rows of each kind the world holds: more than the larger page.
COUNT = 22
SMALL, LARGE = 2, 20

#: Lists whose whole content is a fixed catalogue the test cannot grow (or that CloudStack does
#: not page: listApis), and lists of kinds the cloud has no create command for yet: only the
#: equal count is checked.
FIXED = frozenset(
    # listCapacity sums per zone: the world's hosts and pools are all in one zone.
    {
        "listApis",
        "listHypervisors",
        "listCapabilities",
        "listTemplatePermissions",
        "listIsoPermissions",
        "listStorageProviders",
        "listCapacity",
        "listAffinityGroupTypes",
        "listTrafficTypes",
        "listSupportedNetworkServices",
        "listPortForwardingRules",
        "listIpForwardingRules",
        "listFirewallRules",
        "listEgressFirewallRules",
        "listLoadBalancerRules",
        "listRouters",
    }
)

#: Parameters each list needs to show everything (every account's rows, a scope's values).
_EXTRA: dict[str, tuple[dict[str, str], ...]] = {
    "listAccounts": ({"listall": "true"},),
    "listUsers": ({"listall": "true"},),
    "listDomains": ({"listall": "true"},),
    "listEvents": ({"listall": "true"},),
    "listAsyncJobs": ({"listall": "true"},),
    "listConfigurations": ({}, {"clusterid": "<cluster>"}, {"accountid": "<account>"}),
    "listTemplates": ({"templatefilter": "all"},),
    "listIsos": ({"isofilter": "all"},),
    "listTemplatePermissions": ({"id": "<template>"},),
    "listIsoPermissions": ({"id": "<iso>"},),
    "listStorageProviders": ({"type": "primary"},),
    "listTrafficTypes": ({"physicalnetworkid": "<physical>"},),
    "listNetworks": ({"listall": "true"},),
    "listPublicIpAddresses": ({"allocatedonly": "false"},),
}


@contextmanager
def _counted(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


class _World:
    """A cloud with COUNT of every listed kind, built as the admin through the API."""

    def __init__(self, database: Database) -> None:
        self.cloud = Cloud(database.sessions)
        self.admin = self.cloud.admin.keys
        self.places: dict[str, str] = {}

    def ok(self, command: str, **named: str) -> Any:
        return self.cloud.ok(self.admin, command, **named)

    def build(self) -> None:
        self._identities()
        self._infrastructure()
        self._offerings()
        self._volumes()
        self._templates()
        self._attachments()
        self._networks()
        self._vms()
        for _ in range(COUNT):  # async jobs (and their events)
            self.cloud.job(
                self.admin,
                self.cloud.call(
                    self.admin, "disableAccount", id=self.places["account"], lock="true"
                ),
            )

    def _identities(self) -> None:
        for index in range(COUNT):
            domain = self.cloud.domain(f"d{index}")
            member = self.cloud.member(f"u{index}", domain)
            self.ok(
                "createUser",
                username=f"second{index}",
                password="Pa55-word-for-tests",
                email="s@example.org",
                firstname="S",
                lastname="T",
                account=member.account_name,
                domainid=domain,
            )
        self.places["account"] = member.account_id

    def _infrastructure(self) -> None:
        category = self.ok("listOsCategories")["oscategory"][0]["id"]
        zone: dict[str, Any] = {}
        for index in range(COUNT):
            zone = self.ok(
                "createZone",
                name=f"z{index}",
                dns1="8.8.8.8",
                internaldns1="10.0.0.1",
                networktype="Advanced",
            )["zone"]
            self.ok("updateZone", id=zone["id"], **{"details[0].k": "v"})
        pod: dict[str, Any] = {}
        for index in range(COUNT):
            pod = self.ok(
                "createPod",
                name=f"p{index}",
                zoneid=zone["id"],
                gateway=f"172.16.{index}.1",
                netmask="255.255.255.0",
                startip=f"172.16.{index}.10",
                endip=f"172.16.{index}.200",
            )["pod"]
        cluster: dict[str, Any] = {}
        for index in range(COUNT):
            cluster = self.ok(
                "addCluster",
                clustername=f"c{index}",
                clustertype="CloudManaged",
                hypervisor="Simulator",
                zoneid=zone["id"],
                podid=pod["id"],
            )["cluster"][0]
            self.ok(
                "updateConfiguration",
                name="cpu.overprovisioning.factor",
                value="2",
                clusterid=cluster["id"],
            )
        self.places["cluster"] = cluster["id"]
        for index in range(COUNT):
            host = self.ok(
                "addHost",
                zoneid=zone["id"],
                podid=pod["id"],
                clusterid=cluster["id"],
                hypervisor="Simulator",
                url=f"http://sim-{index}?cpunumber=4&cpuspeed=2000&memory=8589934592",
                hosttags="a,b",
            )["host"][0]
            self.ok("updateHost", id=host["id"], oscategoryid=category)
        self._pools(zone, pod)

    def _pools(self, zone: dict[str, Any], pod: dict[str, Any]) -> None:
        """Pools with tags and a pool-scoped factor, in a cluster of one host (so each
        create connects one host)."""
        cluster = self.ok(
            "addCluster",
            clustername="storage",
            clustertype="CloudManaged",
            hypervisor="Simulator",
            zoneid=zone["id"],
            podid=pod["id"],
        )["cluster"][0]
        self.ok(
            "addHost",
            zoneid=zone["id"],
            podid=pod["id"],
            clusterid=cluster["id"],
            hypervisor="Simulator",
            url="http://sim-storage?cpunumber=4&cpuspeed=2000&memory=8589934592",
        )
        for index in range(COUNT):
            pool = self.ok(
                "createStoragePool",
                name=f"ps{index}",
                url=f"nfs://nfs.test/export/ps{index}",
                zoneid=zone["id"],
                podid=pod["id"],
                clusterid=cluster["id"],
                tags="t1,t2",
            )["storagepool"]
            self.ok(
                "updateConfiguration",
                name="storage.overprovisioning.factor",
                value="3",
                storageid=pool["id"],
            )

    def _offerings(self) -> None:
        zone = self.ok("listZones")["zone"][0]["id"]
        domain = self.ok("listDomains", listall="true")["domain"][1]["id"]
        for index in range(COUNT):
            self.ok(
                "createDiskOffering",
                name=f"disk{index}",
                displaytext="disk",
                disksize="5",
                domainid=domain,
                zoneid=zone,
            )
            self.ok(
                "createServiceOffering",
                name=f"so{index}",
                displaytext="so",
                cpunumber="1",
                cpuspeed="1000",
                memory="512",
                domainid=domain,
                zoneid=zone,
                **{"serviceofferingdetails[0].key": "value"},
            )

    def _volumes(self) -> None:
        zone = self.ok("listZones")["zone"][0]["id"]
        offering = self.ok("listDiskOfferings")["diskoffering"][0]["id"]
        for index in range(COUNT):
            self.cloud.job(
                self.admin,
                self.cloud.call(
                    self.admin,
                    "createVolume",
                    name=f"v{index}",
                    diskofferingid=offering,
                    zoneid=zone,
                ),
            )

    def _templates(self) -> None:
        zone = self.ok("listZones")["zone"][0]["id"]
        os_type = self.ok("listOsTypes")["ostype"][0]["id"]
        self.ok("updateConfiguration", name="secstorage.allowed.internal.sites",
                value="127.0.0.0/8")  # fmt: skip
        for index in range(COUNT):
            self.ok("addImageStore", provider="NFS", url=f"nfs://10.0.0.9/sec{index}", zoneid=zone)
            template = self.ok("registerTemplate", name=f"t{index}", zoneid=zone,
                               url=f"http://127.0.0.1/t{index}.qcow2", format="QCOW2",
                               hypervisor="Simulator", ostypeid=os_type)  # fmt: skip
            iso = self.ok("registerIso", name=f"i{index}", zoneid=zone, ostypeid=os_type,
                          url=f"http://127.0.0.1/i{index}.iso")  # fmt: skip
        self.places["template"] = template["template"][0]["id"]
        self.places["iso"] = iso["iso"][0]["id"]

    def _attachments(self) -> None:
        """Key pairs, instance, affinity and security groups (each with a rule), and tags
        on every volume and security group."""
        for index in range(COUNT):
            public = (
                ed25519.Ed25519PrivateKey.generate()
                .public_key()
                .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            )
            self.ok("registerSSHKeyPair", name=f"k{index}", publickey=public.decode())
            self.ok("createInstanceGroup", name=f"g{index}")
            self.cloud.job(self.admin, self.cloud.call(
                self.admin, "createAffinityGroup", name=f"a{index}", type="host affinity"
            ))  # fmt: skip
            group = self.ok("createSecurityGroup", name=f"s{index}")["securitygroup"]["id"]
            self.cloud.job(self.admin, self.cloud.call(
                self.admin, "authorizeSecurityGroupIngress", securitygroupid=group,
                protocol="tcp", startport="22", cidrlist="10.0.0.0/8",
                **{"usersecuritygrouplist[0].account": "admin",
                   "usersecuritygrouplist[0].group": "default"},
            ))  # fmt: skip
        for kind, listing, key in (
            ("Volume", "listVolumes", "volume"),
            ("SecurityGroup", "listSecurityGroups", "securitygroup"),
        ):
            ids = ",".join(item["id"] for item in self.ok(listing, pagesize="-1")[key])
            self.cloud.job(self.admin, self.cloud.call(
                self.admin, "createTags", resourcetype=kind, resourceids=ids,
                **{"tags[0].key": "env", "tags[0].value": "test"},
            ))  # fmt: skip

    def _vms(self) -> None:
        zone = self.ok("listZones")["zone"][0]["id"]
        offering = self.ok("listServiceOfferings")["serviceoffering"][0]["id"]
        listed = self.ok("listNetworks", listall="true")["network"]
        nets = [net["id"] for net in listed if str(net.get("name", "")).startswith("n")]
        for index in range(COUNT):  # recorded, not started: no host is needed
            self.cloud.job(
                self.admin,
                self.cloud.call(
                    self.admin,
                    "deployVirtualMachine",
                    name=f"vm{index}",
                    zoneid=zone,
                    serviceofferingid=offering,
                    templateid=self.places["template"],
                    startvm="false",
                    networkids=nets[index % len(nets)],
                    **{"details[0].team": "blue"},
                ),
            )

    def _networks(self) -> None:
        """Physical networks, offerings and shared networks with a range each."""
        zone = self.ok("listZones")["zone"][0]["id"]
        for index in range(COUNT):
            physical = self.cloud.job(
                self.admin,
                self.cloud.call(self.admin, "createPhysicalNetwork", name=f"phy{index}",
                                zoneid=zone),
            )["jobresult"]["physicalnetwork"]["id"]  # fmt: skip
            self.cloud.job(
                self.admin,
                self.cloud.call(self.admin, "addTrafficType", physicalnetworkid=physical,
                                traffictype="Guest" if index == 0 else "Public"),
            )  # fmt: skip
            self.ok("createNetworkOffering", name=f"no{index}", displaytext="no",
                    guestiptype="Shared", traffictype="GUEST", supportedservices="UserData",
                    specifyvlan="true", enable="true",
                    **{"serviceproviderlist[0].service": "UserData",
                       "serviceproviderlist[0].provider": "ConfigDrive"})  # fmt: skip
        self.places["physical"] = physical
        offering = self.ok("listNetworkOfferings", name="DefaultSharedNetworkOffering")
        for index in range(COUNT):
            self.ok("createNetwork", name=f"n{index}", zoneid=zone,
                    networkofferingid=offering["networkoffering"][0]["id"], vlan=str(index + 2),
                    gateway=f"10.{index}.0.1", netmask="255.255.255.0",
                    startip=f"10.{index}.0.10", endip=f"10.{index}.0.12")  # fmt: skip
        self.ok("createVlanIpRange", zoneid=zone, forvirtualnetwork="true", vlan="untagged",
                gateway="192.0.2.1", netmask="255.255.255.0", startip="192.0.2.10",
                endip="192.0.2.40")  # fmt: skip

    def statements(self, command: str, size: int, extra: dict[str, str]) -> tuple[int, int]:
        """The statements one list call ran, and the items it answered."""
        named = {name: self.places.get(value[1:-1], value) for name, value in extra.items()}
        engine = self.cloud.sessions.kw["bind"]
        with _counted(engine) as statements:
            answer = self.cloud.call(self.admin, command, page="1", pagesize=str(size), **named)
        assert answer.status == 200, (command, answer.body)
        items = [value for value in content(answer).values() if isinstance(value, list)]
        return len(statements), len(items[0]) if items else 0


def _list_commands() -> list[str]:
    return [command.name for command in server.build_registry() if command.name.startswith("list")]


@pytest.fixture
def world(database: Database) -> _World:
    built = _World(database)
    built.build()
    return built


def test_no_list_command_costs_more_statements_for_a_larger_page(world: _World) -> None:
    costs: dict[str, tuple[int, int]] = {}
    unequal, unseeded = [], []
    for name in _list_commands():
        for extra in _EXTRA.get(name, ({},)):
            label = f"{name} {extra}" if extra else name
            small, shown_small = world.statements(name, SMALL, extra)
            large, shown_large = world.statements(name, LARGE, extra)
            costs[label] = (small, large)
            if large > small:
                unequal.append(
                    f"{label}: {small} statements at pagesize {SMALL}, {large} at {LARGE}"
                )
            if name not in FIXED and shown_large <= shown_small:
                unseeded.append(f"{label}: {shown_small} then {shown_large} items (seed more)")
    assert not unseeded, unseeded
    assert not unequal, "\n".join(unequal)


def test_the_registry_has_the_lists_this_test_knows() -> None:
    # A list that needs parameters to show its rows must be named in _EXTRA; this keeps the
    # names there real.
    known = set(_list_commands())
    assert set(_EXTRA) <= known
    assert {name for name in FIXED if name != "listCapabilities"} <= known
