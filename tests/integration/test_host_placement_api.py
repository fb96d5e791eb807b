"""explainHostPlacement over the API, and over-commit ratio changes acting on the claims."""

from __future__ import annotations

from typing import Any

from cirrostack.allocators import hosts
from tests import host_rows
from tests.cloud import Cloud
from tests.integration.test_host_planner import CPU, MEMORY, ask, set_global, world

GIB = host_rows.GIB


def _offering(cloud: Cloud, **extra: str) -> str:
    made = cloud.ok(
        cloud.admin.keys, "createServiceOffering", name="small", displaytext="small", **extra
    )
    return str(made["serviceoffering"]["id"])


def test_explain_lists_every_host_with_its_verdict(cloud: Cloud) -> None:
    with cloud.sessions() as session:
        place = world(session)
        host_rows.host(session, place.cluster, name="good", tags=["ssd"])
        host_rows.host(session, place.cluster, name="untagged")
        host_rows.host(session, place.other, name="down", status="Alert", tags=["ssd"])
        session.commit()
        zone, cluster = place.zone.uuid, place.cluster.uuid
    offering = _offering(cloud, cpunumber="2", cpuspeed="1000", memory="1024", hosttags="SSD")
    found: Any = cloud.ok(
        cloud.admin.keys, "explainHostPlacement", zoneid=zone, serviceofferingid=offering
    )["hostplacement"]
    assert found["summary"].startswith("1 suitable host: 2 rejected")
    by_name = {item["name"]: item for item in found["host"]}
    assert by_name["good"]["suitable"] and by_name["good"]["rank"] == 1
    assert by_name["good"]["clusterid"] == cluster
    assert by_name["untagged"]["reasons"] == [
        {"code": "host tags", "text": "host tags [] lack ['ssd']"}
    ]
    assert by_name["down"]["reasons"] == [{"code": "state", "text": "not Up (Alert)"}]
    scoped: Any = cloud.ok(
        cloud.admin.keys, "explainHostPlacement", zoneid=zone, serviceofferingid=offering,
        clusterid=cluster,
    )["hostplacement"]  # fmt: skip
    assert {i["name"]: i["reasons"][0]["code"] for i in scoped["host"] if i["reasons"]} == {
        "untagged": "host tags",
        "down": "scope",
    }


def test_explain_needs_figures_for_a_custom_offering_and_an_admin(cloud: Cloud) -> None:
    with cloud.sessions() as session:
        zone = world(session).zone.uuid
        session.commit()
    custom = _offering(cloud, customized="true")
    answer = cloud.call(
        cloud.admin.keys, "explainHostPlacement", zoneid=zone, serviceofferingid=custom
    )
    assert answer.status == 431 and "give cpunumber" in str(answer.body)
    with cloud.sessions() as session:
        elsewhere = world(session, "9").cluster.uuid
        session.commit()
    outside = cloud.call(
        cloud.admin.keys, "explainHostPlacement", zoneid=zone, serviceofferingid=custom,
        clusterid=elsewhere, cpunumber="1", cpuspeed="100", memory="128",
    )  # fmt: skip
    assert outside.status == 431 and "clusterid given is not in zone" in str(outside.body)
    user = cloud.member("planner-user", cloud.root_id)
    refused = cloud.call(user.keys, "explainHostPlacement", zoneid=zone, serviceofferingid=custom)
    assert refused.status != 200


def test_a_new_cluster_ratio_changes_the_totals_claims_compare_with(cloud: Cloud) -> None:
    with cloud.sessions() as session:
        place = world(session)
        target = host_rows.host(session, place.cluster, name="h1", cpus=4, speed=1000, ram=4 * GIB)
        set_global(session, "cluster.cpu.allocated.capacity.disablethreshold", "1.0")
        session.commit()
        cluster = place.cluster.uuid
    cloud.ok(
        cloud.admin.keys, "updateConfiguration", name="cpu.overprovisioning.factor",
        value="2.0", clusterid=cluster,
    )  # fmt: skip
    with cloud.sessions() as session:
        assert host_rows.amounts(session, target.id)[CPU] == (0, 0, 8000)
        assert host_rows.amounts(session, target.id)[MEMORY][2] == 4 * GIB
        big = ask(place, cpus=4, speed=1000, memory=1 * GIB)
        hosts.place(session, big)
        hosts.place(session, big)  # 8000 MHz of 8000: only with the new ratio
        session.commit()
        assert host_rows.amounts(session, target.id)[CPU] == (8000, 0, 8000)
    cloud.ok(
        cloud.admin.keys, "resetConfiguration", name="cpu.overprovisioning.factor",
        clusterid=cluster,
    )  # fmt: skip
    with cloud.sessions() as session:
        assert host_rows.amounts(session, target.id)[CPU] == (8000, 0, 4000)
