"""The infrastructure API commands through the real dispatcher, signed as clients sign.

Shapes clients depend on (addCluster and addHost answer lists, pods' IP lists, strings for
ratios, update answers equal to list items for Ansible's idempotency), the error codes
(431 bad or duplicate value, 534 wrong state, 536 still in use, 401 for users), the async
maintenance jobs, and what a plain user may see.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.api import dispatch, registry
from cirrostack.api.views import infrastructure as views
from cirrostack.db.models import events as event_models
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import monitor
from cirrostack.jobs import queue, reaper
from cirrostack.states import holds
from tests.cloud import Cloud, Keys, content
from tests.conftest import Database

SIM = "http://sim-1?cpunumber=8&cpuspeed=2400&memory=17179869184"


class Infra:
    """A cloud with helpers that build infrastructure as the admin, through the API."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.cloud = Cloud(database.sessions)
        self.admin = self.cloud.admin.keys

    def ok(self, command: str, **named: str) -> Any:
        return self.cloud.ok(self.admin, command, **named)

    def status(self, command: str, keys: Keys | None = None, **named: str) -> int:
        answer = self.cloud.call(keys or self.admin, command, **named)
        return self.cloud.outcome(keys or self.admin, answer)

    def error(self, command: str, **named: str) -> tuple[int, str]:
        answer = self.cloud.call(self.admin, command, **named)
        return answer.status, str(content(answer).get("errortext", ""))

    def zone(self, name: str = "z1", **more: str) -> dict[str, Any]:
        fields = {"dns1": "8.8.8.8", "internaldns1": "10.0.0.1", "networktype": "Advanced"}
        return dict(self.ok("createZone", name=name, **(fields | more))["zone"])

    def pod(self, zone_id: str, name: str = "p1", net: str = "192.168.1") -> dict[str, Any]:
        created = self.ok(
            "createPod",
            name=name,
            zoneid=zone_id,
            gateway=f"{net}.1",
            netmask="255.255.255.0",
            startip=f"{net}.10",
            endip=f"{net}.50",
        )
        return dict(created["pod"])

    def cluster(self, zone_id: str, pod_id: str, name: str = "c1") -> dict[str, Any]:
        added = self.ok(
            "addCluster",
            clustername=name,
            clustertype="CloudManaged",
            hypervisor="Simulator",
            zoneid=zone_id,
            podid=pod_id,
        )
        assert added["count"] == 1
        return dict(added["cluster"][0])

    def host(self, cluster: dict[str, Any], url: str = SIM) -> dict[str, Any]:
        added = self.ok(
            "addHost",
            zoneid=cluster["zoneid"],
            podid=cluster["podid"],
            clusterid=cluster["id"],
            hypervisor="Simulator",
            url=url,
            username="root",
            password="password",
        )
        assert added["count"] == 1
        return dict(added["host"][0])

    def stack(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        zone = self.zone()
        pod = self.pod(zone["id"])
        cluster = self.cluster(zone["id"], pod["id"])
        return zone, pod, cluster, self.host(cluster)

    def only(self, command: str, key: str, **named: str) -> dict[str, Any]:
        listed = self.ok(command, **named)
        assert listed["count"] == 1, listed
        return dict(listed[key][0])


@pytest.fixture
def infra(sqlite_database: Database) -> Infra:
    return Infra(sqlite_database)


def _declared(spec: registry.ObjectSpec, item: dict[str, Any]) -> None:
    assert set(item) <= spec.field_names(), set(item) - spec.field_names()


def test_a_cloud_is_built_with_the_shapes_clients_read(infra: Infra) -> None:
    zone, pod, cluster, host = infra.stack()
    for key in ("id", "name", "dns1", "internaldns1", "networktype", "allocationstate"):
        assert key in zone
    assert (zone["securitygroupsenabled"], zone["localstorageenabled"]) == (False, False)
    assert (zone["guestcidraddress"], zone["dhcpprovider"]) == ("10.1.1.0/24", "VirtualRouter")
    assert (pod["startip"], pod["endip"], pod["netmask"]) == (
        ["192.168.1.10"],
        ["192.168.1.50"],
        "255.255.255.0",
    )
    assert (cluster["cpuovercommitratio"], cluster["memoryovercommitratio"]) == ("1.0", "1.0")
    assert (cluster["hypervisortype"], cluster["podname"], cluster["managedstate"]) == (
        "Simulator",
        "p1",
        "Managed",
    )
    assert (host["state"], host["resourcestate"], host["type"]) == ("Up", "Enabled", "Routing")
    assert (host["cpunumber"], host["cpuspeed"], host["memorytotal"]) == (8, 2400, 16 * 1024**3)
    assert (host["cpuallocated"], host["memoryallocated"]) == ("0%", 0)
    assert (host["cpuwithoverprovisioning"], host["hosttags"]) == ("19200", "")
    assert (host["clustername"], host["podname"], host["zonename"]) == ("c1", "p1", "z1")
    assert host["ipaddress"] == "192.168.1.10" and "lastpinged" in host
    for spec, item in ((views.ZONE, zone), (views.POD, pod), (views.CLUSTER, cluster)):
        _declared(spec, item)
    _declared(views.HOST, host)
    assert infra.only("listZones", "zone", name="z1") == zone
    assert infra.only("listPods", "pod", zoneid=zone["id"], name="p1") == pod
    assert infra.only("listClusters", "cluster", name="c1") == cluster
    listed = infra.only("listHosts", "host", zoneid=zone["id"], type="routing")
    assert {k: v for k, v in listed.items() if k != "lastpinged"} == {
        k: v for k, v in host.items() if k != "lastpinged"
    }


def test_updates_answer_what_the_lists_show(infra: Infra) -> None:
    zone, pod, cluster, host = infra.stack()
    updated_zone = infra.ok("updateZone", id=zone["id"], dns2="8.8.4.4", allocationstate="Disabled")
    assert updated_zone["zone"]["dns2"] == "8.8.4.4"
    assert updated_zone["zone"] == infra.only("listZones", "zone", id=zone["id"])
    updated_pod = infra.ok("updatePod", id=pod["id"], endip="192.168.1.60", name="p-one")
    assert updated_pod["pod"]["endip"] == ["192.168.1.60"]
    assert updated_pod["pod"] == infra.only("listPods", "pod", id=pod["id"])
    updated = infra.ok("updateCluster", id=cluster["id"], clustername="c-one")
    assert updated["cluster"] == infra.only("listClusters", "cluster", id=cluster["id"])
    updated_host = infra.ok(
        "updateHost", id=host["id"], hosttags="ssd,fast", allocationstate="Disable"
    )
    assert (updated_host["host"]["hosttags"], updated_host["host"]["resourcestate"]) == (
        "ssd,fast",
        "Disabled",
    )
    listed = infra.only("listHosts", "host", id=host["id"])
    assert listed["hosttags"] == "ssd,fast" and listed["resourcestate"] == "Disabled"
    category = infra.ok("listOsCategories")["oscategory"][0]
    with_os = infra.ok("updateHost", id=host["id"], oscategoryid=category["id"])["host"]
    assert (with_os["oscategoryid"], with_os["oscategoryname"]) == (
        category["id"],
        category["name"],
    )
    assert infra.status("updateHost", id=host["id"], oscategoryid=zone["id"]) == 431


def test_duplicates_and_bad_values_are_431(infra: Infra) -> None:
    zone, pod, cluster, _ = infra.stack()
    assert infra.error(
        "createZone", name="z1", dns1="8.8.8.8", internaldns1="1.1.1.1", networktype="Basic"
    ) == (
        431,
        "A zone with name z1 already exists",
    )
    assert (
        infra.status(
            "createPod",
            name="p1",
            zoneid=zone["id"],
            gateway="10.5.0.1",
            netmask="255.255.0.0",
            startip="10.5.0.9",
        )
        == 431
    )
    assert (
        infra.status(
            "addCluster",
            clustername="c1",
            clustertype="CloudManaged",
            hypervisor="Simulator",
            zoneid=zone["id"],
            podid=pod["id"],
        )
        == 431
    )
    # A second host behind the same URL is no duplicate: simulated hosts are named by guid.
    assert (
        infra.status(
            "addHost",
            zoneid=zone["id"],
            podid=pod["id"],
            clusterid=cluster["id"],
            hypervisor="Simulator",
            url=SIM,
        )
        == 0
    )
    assert (
        infra.status(
            "createZone", name="z2", dns1="dns.example", internaldns1="1.1.1.1", networktype="Basic"
        )
        == 431
    )
    assert (
        infra.status(
            "addCluster",
            clustername="c2",
            clustertype="Weird",
            hypervisor="KVM",
            zoneid=zone["id"],
            podid=pod["id"],
        )
        == 431
    )
    assert infra.status("updateZone", id=zone["id"], allocationstate="Maybe") == 431
    assert infra.status("updateZone", id=zone["id"], dhcpprovider="DhcpServer") == 431
    assert infra.status("listPods", zoneid="7c1c3d5e-0000-4000-8000-000000000000") == 431
    assert infra.status("createZone", name="z3", dns1="8.8.8.8", internaldns1="1.1.1.1") == 431
    assert (
        infra.status(
            "addHost",
            zoneid=zone["id"],
            podid=pod["id"],
            clustername="c1",
            hypervisor="KVM",
            url="http://kvm-1",
        )
        == 534
    )


def test_deleting_what_still_holds_something_is_536(infra: Infra) -> None:
    zone, pod, cluster, host = infra.stack()
    assert infra.error("deleteZone", id=zone["id"]) == (
        536,
        "The zone z1 is not deletable because it has pods: p1",
    )
    assert infra.error("deletePod", id=pod["id"])[0] == 536
    assert infra.error("deleteCluster", id=cluster["id"]) == (
        536,
        f"The cluster c1 is not deletable because it has hosts: {host['name']}",
    )
    code, text = infra.error("deleteHost", id=host["id"])
    assert (code, "put it into maintenance or disable it first" in text) == (534, True)
    assert infra.ok("deleteHost", id=host["id"], forced="true") == {"success": True}
    for command, target in (("deleteCluster", cluster), ("deletePod", pod), ("deleteZone", zone)):
        assert infra.ok(command, id=target["id"]) == {"success": True}
    for command in ("listZones", "listPods", "listClusters", "listHosts"):
        assert infra.ok(command) == {}


def test_maintenance_runs_as_jobs_answering_the_host(infra: Infra) -> None:
    _, _, _, host = infra.stack()
    cloud, admin = infra.cloud, infra.admin
    job = cloud.job(admin, cloud.call(admin, "prepareHostForMaintenance", id=host["id"]))
    assert (job["jobstatus"], job["jobinstancetype"], job["jobinstanceid"]) == (
        1,
        "Host",
        host["id"],
    )
    assert job["jobresult"]["host"]["resourcestate"] == "Maintenance"
    assert infra.status("prepareHostForMaintenance", id=host["id"]) == 534
    assert infra.status("updateHost", id=host["id"], allocationstate="Enable") == 534
    job = cloud.job(admin, cloud.call(admin, "cancelHostMaintenance", id=host["id"]))
    assert job["jobresult"]["host"]["resourcestate"] == "Enabled"
    assert infra.status("cancelHostMaintenance", id=host["id"]) == 534
    assert infra.status("cancelHostMaintenance", id="7c1c3d5e-0000-4000-8000-000000000000") == 431
    with infra.database.sessions() as session:
        kinds = set(session.scalars(sa.select(event_models.Event.type)))
    assert {"MAINT.PREPARE", "MAINT.CANCEL", "HOST.CREATE", "ZONE.CREATE", "HOST.STATUS"} <= kinds


def test_a_refused_maintenance_fails_the_job_and_rolls_the_host_back(infra: Infra) -> None:
    _, _, _, host = infra.stack()
    with infra.database.sessions() as session:
        guid = session.scalars(sa.select(models.Host.guid).where(models.Host.uuid == host["id"]))
        simulated = infra.cloud.agents.fleet.get(str(guid.one()))
    assert simulated is not None
    simulated.fail("MaintainCommand")
    cloud, admin = infra.cloud, infra.admin
    job = cloud.job(admin, cloud.call(admin, "prepareHostForMaintenance", id=host["id"]))
    assert (job["jobstatus"], job["jobresultcode"]) == (2, 534)
    assert "did not accept maintenance" in job["jobresult"]["errortext"]
    assert infra.only("listHosts", "host", id=host["id"])["resourcestate"] == "Enabled"


def test_users_see_enabled_zones_without_internals_and_nothing_else(infra: Infra) -> None:
    zone, pod, _, host = infra.stack()
    infra.zone("z-off", allocationstate="Disabled")
    team = infra.cloud.domain("team")
    infra.zone("z-team", domainid=team)
    user = infra.cloud.member("alice", infra.cloud.root_id).keys
    member = infra.cloud.member("bob", team).keys
    seen = infra.cloud.ok(user, "listZones")
    assert [z["name"] for z in seen["zone"]] == ["z1"]
    assert not {"dns1", "internaldns1", "guestcidraddress"} & set(seen["zone"][0])
    assert [z["name"] for z in infra.cloud.ok(member, "listZones")["zone"]] == ["z1", "z-team"]
    assert infra.cloud.ok(user, "listHypervisors")["count"] == 2
    for command, named in (
        (
            "createZone",
            {"name": "x", "dns1": "8.8.8.8", "internaldns1": "1.1.1.1", "networktype": "Basic"},
        ),
        ("listPods", {}),
        ("listClusters", {}),
        ("listHosts", {}),
        ("updateZone", {"id": zone["id"]}),
        ("deletePod", {"id": pod["id"]}),
        (
            "addCluster",
            {
                "clustername": "x",
                "clustertype": "CloudManaged",
                "hypervisor": "KVM",
                "zoneid": zone["id"],
                "podid": pod["id"],
            },
        ),
        ("updateHost", {"id": host["id"]}),
        ("prepareHostForMaintenance", {"id": host["id"]}),
        ("configureSimulator", {"name": "PingCommand", "value": "result:fail"}),
    ):
        assert infra.status(command, user, **named) == 401, command


def test_lists_filter_and_page(infra: Infra) -> None:
    zone, pod, cluster, _ = infra.stack()
    second = infra.host(cluster, "http://sim-2")
    third = infra.host(cluster, "http://sim-3")
    page = infra.ok("listHosts", page="2", pagesize="2")
    assert page["count"] == 3 and [h["name"] for h in page["host"]] == [third["name"]]
    assert infra.ok("listHosts", name=second["name"])["host"][0]["ipaddress"] == "192.168.1.11"
    assert infra.ok("listHosts", state="up", hypervisor="simulator")["count"] == 3
    assert infra.ok("listHosts", resourcestate="Maintenance") == {}
    assert infra.ok("listHosts", hahost="true") == {}
    assert infra.ok("listHosts", keyword="simulatedAGENT.")["count"] == 3
    assert infra.ok("listClusters", podid=pod["id"], hypervisor="Simulator")["count"] == 1
    assert infra.ok("listPods", keyword="nothing") == {}
    assert infra.ok("listHypervisors", zoneid=zone["id"]) == {
        "count": 1,
        "hypervisor": [{"name": "Simulator"}],
    }
    assert infra.status("listHosts", page="1") == 431


def test_configure_simulator_makes_a_host_fail_its_pings(infra: Infra) -> None:
    _, _, _, host = infra.stack()
    assert infra.ok(
        "configureSimulator", hostid=host["id"], name="PingCommand", value="result:fail"
    ) == {
        "success": True,
        "displaytext": "configured 1 simulated host(s)",
    }
    shared = infra.cloud.agents
    shared.clock = lambda: 10_000_000.0  # long after the last answer
    monitor.sweep(infra.database.sessions, shared, monitor.Timings(1, 2.5, 5))
    assert infra.only("listHosts", "host", id=host["id"])["state"] == "Alert"
    assert infra.status("configureSimulator", name="RebootCommand", value="result:fail") == 431


def test_a_queued_maintenance_job_holds_its_host_until_it_runs(infra: Infra) -> None:
    """The row prepare moved (PrepareForMaintenance) is the job's from the submit on."""
    _, _, _, host = infra.stack()
    cloud, admin = infra.cloud, infra.admin
    paused = cloud.using(cloud.sessions)
    paused.dispatcher = dispatch.Dispatcher(
        cloud.registry,
        cloud.sessions,
        services=registry.Services(agents=cloud.agents),
        handoff=lambda: None,
    )
    answer = paused.call(admin, "prepareHostForMaintenance", id=host["id"])
    jobid = content(answer)["jobid"]
    with infra.database.sessions() as session:
        job_id = session.scalar(sa.select(queue.Job.id).where(queue.Job.uuid == jobid))
        host_id = session.scalar(sa.select(models.Host.id).where(models.Host.uuid == host["id"]))
        assert job_id is not None and host_id is not None
        assert holds.held_by(session, job_id) == [("Host", host_id)]
    assert reaper.sweep(infra.database.sessions, max_attempts=3).recovered == []
    cloud.dispatcher.handoff()  # the inline runner takes the queued job now
    job = cloud.ok(admin, "queryAsyncJobResult", jobid=jobid)
    assert job["jobresult"]["host"]["resourcestate"] == "Maintenance"
    with infra.database.sessions() as session:
        assert holds.held_by(session, job_id) == []
