"""listConfigurations, updateConfiguration, resetConfiguration through the real dispatcher."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.api.views import configuration as view
from cirrostack.config import catalogue, keys
from cirrostack.db.models import infrastructure
from tests import rows
from tests.cloud import Cloud, Member, content
from tests.conftest import Database


@pytest.fixture
def cloud(sqlite_database: Database) -> Cloud:
    return Cloud(sqlite_database.sessions)


def zone_and_pool(cloud: Cloud) -> tuple[str, str, str]:
    """A zone, a cluster in it and a pool in the cluster (made directly: no API for them yet)."""
    with cloud.sessions() as session:
        zone, _pod, cluster = rows.zone_pod_cluster(session)
        pool = rows.nfs_pool(session, zone, cluster)
        session.commit()
        assert pool.uuid is not None
        return zone.uuid, cluster.uuid, pool.uuid


def listed(cloud: Cloud, **named: str) -> dict[str, dict[str, Any]]:
    answer = cloud.ok(cloud.admin.keys, "listConfigurations", **named)
    return {item["name"]: item for item in answer.get("configuration", [])}


def refused(cloud: Cloud, command: str, **named: str) -> str:
    """The errortext of a 431 answer."""
    answer = cloud.call(cloud.admin.keys, command, **named)
    assert answer.status == 431, answer.body
    body = content(answer)
    assert body["errorcode"] == 431
    assert body["cserrorcode"] == 4350
    return str(body["errortext"])


def test_list_shows_every_key_with_cloudstacks_fields(cloud: Cloud) -> None:
    answer = cloud.ok(cloud.admin.keys, "listConfigurations")
    assert answer["count"] == len(catalogue.REGISTRY)
    item = {entry["name"]: entry for entry in answer["configuration"]}[
        "storage.overprovisioning.factor"
    ]
    assert item == {
        "name": "storage.overprovisioning.factor",
        "value": "2.0",
        "defaultvalue": "2.0",
        "category": "Storage",
        "description": keys.STORAGE_OVERPROVISIONING_FACTOR.listed_description,
        "scope": "global",
        "isdynamic": True,
        "type": "Decimal",
        "component": "CapacityManager",
    }
    assert listed(cloud)["vm.allocation.algorithm"]["options"].startswith("random,firstfit")


def test_list_filters_by_name_part_category_keyword_and_pages(cloud: Cloud) -> None:
    # ``name`` matches a part of the name, as CloudStack's LIKE does; Ansible then picks the
    # exact name from the list.
    assert set(listed(cloud, name="expunge.")) == {
        "allow.user.expunge.recover.vm",
        "expunge.delay",
        "expunge.interval",
        "expunge.workers",
    }
    assert {item["category"] for item in listed(cloud, category="Alert").values()} == {"Alert"}
    assert "job.workers" in listed(cloud, keyword="CIRROSTACK:")
    page = cloud.ok(cloud.admin.keys, "listConfigurations", page="2", pagesize="5")
    assert page["count"] == len(catalogue.REGISTRY)
    assert len(page["configuration"]) == 5
    assert cloud.ok(cloud.admin.keys, "listConfigurations", name="no.such.thing") == {}


def test_update_then_the_same_update_again_reports_the_same_value(cloud: Cloud) -> None:
    first = cloud.ok(cloud.admin.keys, "updateConfiguration", name="expunge.delay", value="120")
    assert first["configuration"]["value"] == "120"
    assert first["configuration"]["scope"] == "global"
    # What Ansible's cs_configuration compares before deciding to change anything:
    assert listed(cloud, name="expunge.delay")["expunge.delay"]["value"] == "120"
    again = cloud.ok(cloud.admin.keys, "updateConfiguration", name="expunge.delay", value="120")
    assert again["configuration"]["value"] == "120"
    flag = cloud.ok(
        cloud.admin.keys, "updateConfiguration", name="cluster.threshold.enabled", value="false"
    )
    assert flag["configuration"]["value"] == "false"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("storage.overprovisioning.factor", "lots", "a decimal number of at least 1.0"),
        ("cluster.cpu.allocated.capacity.disablethreshold", "85", "from 0.0 to 1.0"),
        ("expunge.workers", "2.5", "a whole number"),
        ("cluster.threshold.enabled", "yes", "true or false"),
        ("vm.allocation.algorithm", "bestfit", "one of random, firstfit"),
    ],
)
def test_a_value_of_the_wrong_type_is_431_naming_key_and_type(
    cloud: Cloud, name: str, value: str, expected: str
) -> None:
    before = listed(cloud, name=name)[name]["value"]
    text = refused(cloud, "updateConfiguration", name=name, value=value)
    assert name in text
    assert expected in text
    assert listed(cloud, name=name)[name]["value"] == before


def test_unknown_names_and_scopes_are_431(cloud: Cloud) -> None:
    zone, _, pool = zone_and_pool(cloud)
    assert "doesn't exist" in refused(cloud, "updateConfiguration", name="no.such.key", value="1")
    text = refused(cloud, "updateConfiguration", name="expunge.delay", value="1", zoneid=zone)
    assert "cannot be set for a zone" in text
    assert "multiple IDs" in refused(cloud, "listConfigurations", zoneid=zone, storageid=pool)
    missing = "00000000-0000-4000-8000-000000000000"
    assert "Unable to find zone" in refused(cloud, "listConfigurations", zoneid=missing)
    assert "missing parameter name" in refused(cloud, "updateConfiguration", value="1")


def test_zone_and_pool_overrides(cloud: Cloud) -> None:
    zone, _, pool = zone_and_pool(cloud)
    key = "pool.storage.capacity.disablethreshold"
    answer = cloud.ok(cloud.admin.keys, "updateConfiguration", name=key, value="0.7", zoneid=zone)
    assert answer["configuration"]["scope"] == "zone"
    assert answer["configuration"]["id"] == zone
    assert answer["configuration"]["value"] == "0.7"
    at_zone = listed(cloud, zoneid=zone)
    assert at_zone[key]["value"] == "0.7"
    assert at_zone[key]["scope"] == "zone"
    assert set(at_zone) == {k.name for k in catalogue.REGISTRY if "zone" in k.scope_names()}
    # The pool inherits its zone's value until it has its own.
    assert listed(cloud, storageid=pool)[key]["value"] == "0.7"
    cloud.ok(cloud.admin.keys, "updateConfiguration", name=key, value="0.6", storageid=pool)
    assert listed(cloud, storageid=pool)[key]["value"] == "0.6"
    assert listed(cloud)[key]["value"] == "0.85"
    reset = cloud.ok(cloud.admin.keys, "resetConfiguration", name=key, storageid=pool)
    assert reset["configuration"]["value"] == "0.7"


def test_cluster_overcommit_is_kept_under_cloudstacks_detail_name(cloud: Cloud) -> None:
    _, cluster, _ = zone_and_pool(cloud)
    cloud.ok(
        cloud.admin.keys,
        "updateConfiguration",
        name="cpu.overprovisioning.factor",
        value="4",
        clusterid=cluster,
    )
    with cloud.sessions() as session:
        names = session.scalars(sa.select(infrastructure.ClusterDetail.name)).all()
    assert names == ["cpuOvercommitRatio"]
    assert listed(cloud, clusterid=cluster)["cpu.overprovisioning.factor"]["value"] == "4"


def test_account_scope_and_reset(cloud: Cloud) -> None:
    member = cloud.member("alice", cloud.root_id)
    key = "max.account.volumes"
    cloud.ok(
        cloud.admin.keys, "updateConfiguration", name=key, value="-1", accountid=member.account_id
    )
    assert listed(cloud, accountid=member.account_id)[key]["value"] == "-1"
    assert listed(cloud)[key]["value"] == "20"
    cloud.ok(cloud.admin.keys, "updateConfiguration", name=key, value="30")
    reset = cloud.ok(cloud.admin.keys, "resetConfiguration", name=key)
    assert reset["configuration"]["value"] == "20"
    assert listed(cloud, accountid=member.account_id)[key]["value"] == "-1"


def non_admins(cloud: Cloud) -> list[Member]:
    domain = cloud.domain("d1")
    return [cloud.member("user1", domain), cloud.member("dadmin1", domain, account_type=2)]


@pytest.mark.parametrize(
    ("command", "named"),
    [
        ("listConfigurations", {}),
        ("updateConfiguration", {"name": "expunge.delay", "value": "1"}),
        ("resetConfiguration", {"name": "expunge.delay"}),
    ],
)
def test_only_root_admins_reach_configuration(
    cloud: Cloud, command: str, named: dict[str, str]
) -> None:
    for member in non_admins(cloud):
        answer = cloud.call(member.keys, command, **named)
        assert answer.status == 401, (member.username, answer.body)
    assert listed(cloud, name="expunge.delay")["expunge.delay"]["value"] == "86400"


def test_an_update_is_in_the_event_log(cloud: Cloud) -> None:
    zone, _, _ = zone_and_pool(cloud)
    cloud.ok(cloud.admin.keys, "updateConfiguration", name="expunge.delay", value="60")
    cloud.ok(
        cloud.admin.keys,
        "updateConfiguration",
        name="zone.vlan.capacity.notificationthreshold",
        value="0.5",
        zoneid=zone,
    )
    found = cloud.ok(cloud.admin.keys, "listEvents", type="CONFIGURATION.VALUE.EDIT")["event"]
    assert len(found) == 2
    scoped = found[0]  # newest first
    assert scoped["resourcetype"] == "Zone"
    assert scoped["resourceid"] == zone
    assert "zone.vlan.capacity.notificationthreshold" in scoped["description"]


def test_answers_carry_only_declared_fields(cloud: Cloud) -> None:
    zone, _, _ = zone_and_pool(cloud)
    declared = view.CONFIGURATION.field_names()
    for named in ({}, {"zoneid": zone}):
        for item in listed(cloud, **named).values():
            assert set(item) <= declared, set(item) - declared
