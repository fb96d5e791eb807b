"""Offering and guest OS commands through the real dispatcher, signed as clients sign them.

Covers every command: answers and their fields (only declared ones), the 431 answers for bad
values, who may manage and who sees which offering, events, and the idempotence Ansible's
cs_service_offering / cs_disk_offering rely on (a second lookup returns identical values).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.api.registry import ObjectSpec
from cirrostack.api.views import guest_os as guest_os_views
from cirrostack.api.views import offerings as views
from cirrostack.db import engine as db_engine
from cirrostack.db.models import events as event_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as models
from tests import databases
from tests.cloud import Cloud, Member, content
from tests.conftest import Database, MigratedUrl

SMALL = {"name": "Small Instance", "displaytext": "1 CPU, 512 MB", "cpunumber": "1"}
SMALL |= {"cpuspeed": "500", "memory": "512"}


@pytest.fixture
def cloud(sqlite_database: Database) -> Cloud:
    return Cloud(sqlite_database.sessions)


@pytest.fixture(scope="module")
def shared_cloud(
    migrated_url: MigratedUrl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cloud]:
    """One cloud for the tests that only send refused requests (they change nothing)."""
    template = migrated_url("sqlite")
    copy = tmp_path_factory.mktemp("offerings") / "cloud.db"
    shutil.copyfile(str(template.database), copy)
    engine = db_engine.make_engine(template.set(database=str(copy)))
    yield Cloud(databases.sessions_for(engine))
    engine.dispose()


def assert_declared(spec: ObjectSpec, item: dict[str, Any]) -> None:
    undeclared = set(item) - spec.field_names()
    assert not undeclared, f"{spec.name} answers undeclared fields {sorted(undeclared)}"


def error_of(cloud: Cloud, member: Member, command: str, **named: str) -> tuple[int, str]:
    answer = cloud.call(member.keys, command, **named)
    return answer.status, content(answer).get("errortext", "")


def test_service_offering_lifecycle_answers_cloudstack_fields(cloud: Cloud) -> None:
    admin = cloud.admin
    created = cloud.ok(
        admin.keys,
        "createServiceOffering",
        **SMALL,
        hosttags="eco",
        tags="ssd,fast",
        storagetype="shared",
        provisioningtype="thin",
        offerha="true",
        limitcpuuse="true",
        isvolatile="true",
        rootdisksize="20",
        customizediops="false",
        miniops="100",
        maxiops="500",
        bytesreadrate="1048576",
        iopswriterate="100",
        iopswriteratemax="200",
        iopswriteratemaxlength="10",
        networkrate="100",
        deploymentplanner="FirstFitPlanner",
        **{"serviceofferingdetails[0].key": "vgpuType", "serviceofferingdetails[0].value": "K1"},
    )["serviceoffering"]
    assert_declared(views.SERVICE_OFFERING, created)
    expected = {
        "name": "Small Instance",
        "displaytext": "1 CPU, 512 MB",
        "cpunumber": 1,
        "cpuspeed": 500,
        "memory": 512,
        "iscustomized": False,
        "storagetype": "shared",
        "provisioningtype": "thin",
        "offerha": True,
        "limitcpuuse": True,
        "isvolatile": True,
        "issystem": False,
        "defaultuse": False,
        "hosttags": "eco",
        "storagetags": "ssd,fast",
        "tags": "ssd,fast",
        "networkrate": 100,
        "rootdisksize": 20,
        "iscustomizediops": False,
        "miniops": 100,
        "maxiops": 500,
        "diskBytesReadRate": 1048576,
        "diskIopsWriteRate": 100,
        "diskIopsWriteRateMax": 200,
        "diskIopsWriteRateMaxLength": 10,
        "deploymentplanner": "FirstFitPlanner",
        "serviceofferingdetails": {"vgpuType": "K1"},
    }
    assert {key: created[key] for key in expected} == expected
    assert "diskofferingid" not in created and "domainid" not in created
    [listed] = cloud.ok(admin.keys, "listServiceOfferings", name="Small Instance")[
        "serviceoffering"
    ]
    assert listed == created
    updated = cloud.ok(
        admin.keys,
        "updateServiceOffering",
        id=created["id"],
        name="Small",
        displaytext="Small one",
        sortkey="3",
        hosttags="eco,big",
        storagetags="nvme",
    )["serviceoffering"]
    assert (updated["name"], updated["displaytext"]) == ("Small", "Small one")
    assert (updated["hosttags"], updated["storagetags"], updated["tags"]) == (
        "eco,big",
        "nvme",
        "nvme",
    )
    assert cloud.ok(admin.keys, "deleteServiceOffering", id=created["id"]) == {"success": True}
    assert cloud.ok(admin.keys, "listServiceOfferings") == {}
    assert error_of(cloud, admin, "deleteServiceOffering", id=created["id"])[0] == 431
    with cloud.sessions() as session:
        kinds = session.execute(
            sa.select(event_models.Event.type, event_models.Event.level).order_by(
                event_models.Event.id
            )
        ).all()
    assert [tuple(kind) for kind in kinds if "OFFERING" in kind[0]] == [
        ("SERVICE.OFFERING.CREATE", "INFO"),
        ("SERVICE.OFFERING.EDIT", "INFO"),
        ("SERVICE.OFFERING.DELETE", "INFO"),
        # The second delete was refused (431): the failed action leaves its ERROR event.
        ("SERVICE.OFFERING.DELETE", "ERROR"),
    ]


def test_customized_service_offering_keeps_its_bounds_in_details(cloud: Cloud) -> None:
    created = cloud.ok(
        cloud.admin.keys,
        "createServiceOffering",
        name="Custom",
        displaytext="Custom",
        customized="true",
        cpuspeed="1000",
        mincpunumber="1",
        maxcpunumber="8",
        minmemory="512",
        maxmemory="16384",
    )["serviceoffering"]
    assert created["iscustomized"] is True
    assert "cpunumber" not in created and "memory" not in created
    assert created["cpuspeed"] == 1000
    assert created["serviceofferingdetails"] == {
        "mincpunumber": "1",
        "maxcpunumber": "8",
        "minmemory": "512",
        "maxmemory": "16384",
    }
    unbounded = cloud.ok(cloud.admin.keys, "createServiceOffering", name="Any", displaytext="Any")
    assert unbounded["serviceoffering"]["iscustomized"] is True


def test_system_offerings(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    router = cloud.ok(
        admin, "createServiceOffering", **SMALL | {"name": "router"}, issystem="true"
    )["serviceoffering"]
    assert (router["issystem"], router["systemvmtype"]) == (True, "domainrouter")
    proxy = cloud.ok(
        admin,
        "createServiceOffering",
        **SMALL | {"name": "proxy"},
        issystem="true",
        systemvmtype="ConsoleProxy",
    )["serviceoffering"]
    assert proxy["systemvmtype"] == "consoleproxy"
    assert cloud.ok(admin, "listServiceOfferings") == {}
    listed = cloud.ok(admin, "listServiceOfferings", issystem="true", systemvmtype="consoleproxy")
    assert [item["name"] for item in listed["serviceoffering"]] == ["proxy"]


@pytest.mark.parametrize(
    ("named", "words"),
    [
        ({"cpunumber": "0"}, "cpunumber 0"),
        ({"memory": "16"}, "memory 16"),
        ({"cpuspeed": "-1"}, "cpuspeed -1"),
        ({"cpunumber": None}, "needs cpunumber"),
        ({"customized": "true"}, "takes cpunumber and memory at deployment"),
        ({"mincpunumber": "1"}, "only to customized"),
        ({"provisioningtype": "thick"}, "valid values are thin, sparse, fat"),
        ({"storagetype": "nfs"}, "valid values are shared, local"),
        ({"rootdisksize": "0"}, "at least 1 GB"),
        ({"rootdisksize": "4096"}, "maximum size for a disk is 2000 GB"),
        ({"miniops": "500", "maxiops": "100"}, "miniops (500)"),
        ({"customizediops": "true", "miniops": "5"}, "customizediops is true"),
        ({"bytesreadrate": "-5"}, "bytesreadrate -5"),
        ({"iopsreadrate": "50", "iopsreadratemax": "10"}, "iopsreadratemax (10)"),
        ({"systemvmtype": "consoleproxy"}, "issystem=true"),
        ({"issystem": "true", "systemvmtype": "toaster"}, "valid values are domainrouter"),
        ({"issystem": "true", "systemvmtype": "consoleproxy", "networkrate": "1"}, "networkrate"),
        ({"networkrate": "-1"}, "networkrate -1"),
        ({"offerha": "true", "storagetype": "local"}, "HA offering with local storage"),
        ({"deploymentplanner": "Best"}, "deploymentplanner"),
        ({"cachemode": "always"}, "cachemode"),
        ({"hypervisorsnapshotreserve": "-1"}, "hypervisorsnapshotreserve"),
        ({"domainid": "8f7e1fb4-4b34-4fae-a7a7-111111111111"}, "Unable to find domain"),
        ({"zoneid": "8f7e1fb4-4b34-4fae-a7a7-111111111111"}, "Unable to find zone"),
        ({"diskofferingid": "8f7e1fb4-4b34-4fae-a7a7-111111111111"}, "disk offering"),
        ({"name": "   "}, "name that is not blank"),
        ({"serviceofferingdetails[0].domainid": "1"}, "may not set domainid"),
    ],
)
def test_create_service_offering_refuses_bad_values_with_431(
    shared_cloud: Cloud, named: dict[str, str | None], words: str
) -> None:
    cloud = shared_cloud
    values = {key: value for key, value in (SMALL | named).items() if value is not None}
    status, text = error_of(cloud, cloud.admin, "createServiceOffering", **values)
    assert (status, words in text) == (431, True), text
    assert cloud.ok(cloud.admin.keys, "listServiceOfferings") == {}


def test_disk_offering_lifecycle_answers_cloudstack_fields(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    created = cloud.ok(
        admin,
        "createDiskOffering",
        name="Medium",
        displaytext="Medium disk",
        disksize="20",
        tags="ssd, fast",
        provisioningtype="Sparse",
        storagetype="local",
        hypervisorsnapshotreserve="10",
        cachemode="writeback",
        byteswriterate="2048",
        iopsreadrate="300",
    )["diskoffering"]
    assert_declared(views.DISK_OFFERING, created)
    expected = {
        "name": "Medium",
        "displaytext": "Medium disk",
        "disksize": 20,
        "iscustomized": False,
        "tags": "ssd,fast",
        "provisioningtype": "sparse",
        "storagetype": "local",
        "displayoffering": True,
        "hypervisorsnapshotreserve": 10,
        "cacheMode": "writeback",
        "diskBytesWriteRate": 2048,
        "diskIopsReadRate": 300,
    }
    assert {key: created[key] for key in expected} == expected
    with cloud.sessions() as session:
        row = session.scalars(
            sa.select(models.DiskOffering).where(models.DiskOffering.uuid == created["id"])
        ).one()
        assert row.disk_size == 20 * 1024**3
    custom = cloud.ok(
        admin, "createDiskOffering", name="Custom", displaytext="Custom", customized="true"
    )
    assert (custom["diskoffering"]["disksize"], custom["diskoffering"]["iscustomized"]) == (0, True)
    updated = cloud.ok(
        admin,
        "updateDiskOffering",
        id=created["id"],
        displaytext="Medium, 20 GB",
        displayoffering="false",
        tags="nvme",
        byteswriterate="4096",
    )["diskoffering"]
    assert (updated["displaytext"], updated["displayoffering"], updated["tags"]) == (
        "Medium, 20 GB",
        False,
        "nvme",
    )
    assert updated["diskBytesWriteRate"] == 4096 and updated["disksize"] == 20
    listed = cloud.ok(admin, "listDiskOfferings")
    assert [item["name"] for item in listed["diskoffering"]] == ["Medium", "Custom"]
    assert cloud.ok(admin, "deleteDiskOffering", id=created["id"]) == {"success": True}
    listed = cloud.ok(admin, "listDiskOfferings")
    assert (listed["count"], listed["diskoffering"][0]["name"]) == (1, "Custom")


@pytest.mark.parametrize(
    ("named", "words"),
    [
        ({"disksize": "0"}, "at least 1 GB"),
        ({"disksize": "-3"}, "at least 1 GB"),
        ({"disksize": "2001"}, "maximum size for a disk is 2000 GB"),
        ({"disksize": "9223372036854775807"}, "maximum size"),
        ({"customized": "true"}, "disksize is not allowed for a customized"),
        ({"disksize": None}, "disksize is required"),
        ({"provisioningtype": "thick"}, "valid values are thin, sparse, fat"),
        ({"storagetype": "san"}, "valid values are shared, local"),
        ({"miniops": "10"}, "both miniops"),
        ({"customizediops": "false", "miniops": "0", "maxiops": "0"}, "greater than 0"),
        ({"byteswriterate": "100", "byteswriteratemax": "99"}, "byteswriteratemax (99)"),
        ({"disksize": "abc"}, "invalid value abc for parameter disksize"),
    ],
)
def test_create_disk_offering_refuses_bad_values_with_431(
    shared_cloud: Cloud, named: dict[str, str | None], words: str
) -> None:
    cloud = shared_cloud
    values = {"name": "bad", "displaytext": "bad", "disksize": "5"} | named
    given = {key: value for key, value in values.items() if value is not None}
    status, text = error_of(cloud, cloud.admin, "createDiskOffering", **given)
    assert (status, words in text) == (431, True), text
    assert cloud.ok(cloud.admin.keys, "listDiskOfferings") == {}


def test_update_and_delete_need_a_known_active_offering(cloud: Cloud) -> None:
    admin = cloud.admin
    unknown = "8f7e1fb4-4b34-4fae-a7a7-111111111111"
    for command in ("updateDiskOffering", "deleteDiskOffering"):
        assert error_of(cloud, admin, command, id=unknown)[0] == 431
    for command in ("updateServiceOffering", "deleteServiceOffering"):
        assert error_of(cloud, admin, command, id=unknown)[0] == 431
    assert error_of(cloud, admin, "updateDiskOffering")[0] == 431
    offering = cloud.ok(admin.keys, "createServiceOffering", **SMALL)["serviceoffering"]
    with cloud.sessions() as session:
        hidden = session.scalars(
            sa.select(models.DiskOffering.uuid).where(models.DiskOffering.compute_only.is_(True))
        ).one()
    status, text = error_of(cloud, admin, "deleteDiskOffering", id=hidden)
    assert status == 431 and "Unable to find disk offering" in text
    assert cloud.ok(admin.keys, "listServiceOfferings", id=offering["id"])["count"] == 1


def test_scope_is_answered_and_changed_with_public_and_all(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    d1 = cloud.domain("D1")
    d2 = cloud.domain("D2")
    with cloud.sessions() as session:
        zone = infrastructure.DataCenter(name="zone-a")
        session.add(zone)
        session.commit()
        zone_id = zone.uuid
    created = cloud.ok(
        admin,
        "createDiskOffering",
        name="scoped",
        displaytext="scoped",
        disksize="1",
        domainid=f"{d1},{d2}",
        zoneid=zone_id,
    )["diskoffering"]
    assert set(created["domainid"].split(",")) == {d1, d2}
    assert set(created["domain"].split(",")) == {"D1", "D2"}
    assert (created["zoneid"], created["zone"]) == (zone_id, "zone-a")
    public = cloud.ok(
        admin, "updateDiskOffering", id=created["id"], domainid="public", zoneid="all"
    )
    assert not {"domainid", "domain", "zoneid", "zone"} & set(public["diskoffering"])
    moved = cloud.ok(admin, "updateDiskOffering", id=created["id"], domainid=d2)["diskoffering"]
    assert (moved["domainid"], moved["domain"]) == (d2, "D2")
    service = cloud.ok(admin, "createServiceOffering", **SMALL, domainid=d1)["serviceoffering"]
    assert service["domain"] == "D1"
    listed = cloud.ok(admin, "listServiceOfferings", domainid=d1)
    assert [item["id"] for item in listed["serviceoffering"]] == [service["id"]]
    assert cloud.ok(admin, "listServiceOfferings", domainid=d2) == {}
    listed = cloud.ok(admin, "listDiskOfferings", zoneid=zone_id)
    assert listed["count"] == 1


def test_users_and_domain_admins_see_and_manage_by_domain(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    d1 = cloud.domain("D1")
    d1s = cloud.domain("D1S", d1)
    d2 = cloud.domain("D2")
    da = cloud.member("da", d1, account_type=2)
    user = cloud.member("user", d1s)
    other = cloud.member("other", d2)
    for name, domain in (("public", None), ("d1", d1), ("d2", d2)):
        extra = {} if domain is None else {"domainid": domain}
        cloud.ok(admin, "createServiceOffering", **SMALL | {"name": name}, **extra)
        cloud.ok(admin, "createDiskOffering", name=name, displaytext=name, disksize="1", **extra)
    cloud.ok(
        admin,
        "createDiskOffering",
        name="hidden",
        displaytext="h",
        disksize="1",
        displayoffering="false",
    )

    def names(member: Member, command: str, key: str, **named: str) -> set[str]:
        return {item["name"] for item in cloud.ok(member.keys, command, **named).get(key, [])}

    assert names(user, "listServiceOfferings", "serviceoffering") == {"public", "d1"}
    assert names(user, "listDiskOfferings", "diskoffering") == {"public", "d1"}
    assert names(other, "listDiskOfferings", "diskoffering") == {"public", "d2"}
    assert names(cloud.admin, "listDiskOfferings", "diskoffering") == {
        "public",
        "d1",
        "d2",
        "hidden",
    }
    # A domain out of reach is answered like an unknown one (issue 6 finding 10).
    assert error_of(cloud, user, "listDiskOfferings", domainid=d2)[0] == 431
    assert error_of(cloud, user, "listServiceOfferings", issystem="true")[0] == 431

    # Users cannot manage offerings at all: the commands do not exist for them.
    assert (
        error_of(cloud, user, "createDiskOffering", name="u", displaytext="u", disksize="1")[0]
        == 401
    )
    # A domain admin manages offerings of its subtree, never public or foreign ones.
    mine = cloud.ok(
        da.keys, "createDiskOffering", name="mine", displaytext="m", disksize="2", domainid=d1s
    )["diskoffering"]
    assert names(da, "listDiskOfferings", "diskoffering", isrecursive="true") >= {"mine", "d1"}
    for refused in ({}, {"domainid": d1, "tags": "ssd"}):
        named = {"name": "x", "displaytext": "x", "disksize": "1"} | refused
        assert error_of(cloud, da, "createDiskOffering", **named)[0] == 531, refused
    # A domain out of reach is answered like an unknown one (issue 6 finding 10).
    named = {"name": "x", "displaytext": "x", "disksize": "1", "domainid": d2}
    assert error_of(cloud, da, "createDiskOffering", **named)[0] == 431
    public = cloud.ok(admin, "listServiceOfferings", name="public")["serviceoffering"][0]
    assert error_of(cloud, da, "deleteServiceOffering", id=public["id"])[0] == 531
    assert error_of(cloud, da, "updateDiskOffering", id=mine["id"], domainid="public")[0] == 531
    assert cloud.ok(da.keys, "deleteDiskOffering", id=mine["id"]) == {"success": True}


def test_a_second_lookup_sees_identical_values_as_ansible_expects(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    cloud.ok(
        admin,
        "createDiskOffering",
        name="Data",
        displaytext="Data",
        disksize="10",
        tags="a,b",
        storagetype="shared",
        provisioningtype="thin",
    )
    cloud.ok(admin, "createServiceOffering", **SMALL, tags="eco", hosttags="gpu")
    first = (
        cloud.ok(admin, "listDiskOfferings", name="Data"),
        cloud.ok(admin, "listServiceOfferings", name="Small Instance", issystem="false"),
    )
    # What cs_disk_offering / cs_service_offering send when nothing changed.
    disk = first[0]["diskoffering"][0]
    cloud.ok(admin, "updateDiskOffering", id=disk["id"], name="Data", displaytext="Data")
    second = (
        cloud.ok(admin, "listDiskOfferings", name="Data"),
        cloud.ok(admin, "listServiceOfferings", name="Small Instance", issystem="false"),
    )
    assert first == second
    assert (disk["storagetype"], disk["provisioningtype"], disk["tags"]) == (
        "shared",
        "thin",
        "a,b",
    )


def test_lists_page_and_match_keywords(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    for n in range(5):
        cloud.ok(
            admin,
            "createDiskOffering",
            name=f"disk-{n}",
            displaytext=f"Disk number {n}",
            disksize=str(n + 1),
        )
    page = cloud.ok(admin, "listDiskOfferings", page="2", pagesize="2")
    assert page["count"] == 5 and [item["name"] for item in page["diskoffering"]] == [
        "disk-2",
        "disk-3",
    ]
    assert cloud.ok(admin, "listDiskOfferings", keyword="NUMBER 4")["count"] == 1
    assert cloud.ok(admin, "listDiskOfferings", name="disk") == {}
    assert error_of(cloud, cloud.admin, "listDiskOfferings", page="1")[0] == 431


def test_os_types_and_categories_for_every_role(cloud: Cloud) -> None:
    user = cloud.member("reader", cloud.root_id)
    types = cloud.ok(user.keys, "listOsTypes")
    assert types["count"] >= 40
    for item in types["ostype"]:
        assert set(item) == guest_os_views.OS_TYPE.field_names()
    [linux] = cloud.ok(user.keys, "listOsTypes", description="Other Linux (64-bit)")["ostype"]
    assert (linux["oscategoryname"], linux["isuserdefined"], linux["fordisplay"]) == (
        "Other",
        False,
        True,
    )
    same = cloud.ok(user.keys, "listOsTypes", id=linux["id"])["ostype"]
    assert same == [linux]
    in_category = cloud.ok(user.keys, "listOsTypes", oscategoryid=linux["oscategoryid"])
    assert all(item["oscategoryname"] == "Other" for item in in_category["ostype"])
    categories = cloud.ok(user.keys, "listOsCategories")
    assert [item["name"] for item in categories["oscategory"]][:3] == ["CentOS", "Debian", "Oracle"]
    assert cloud.ok(user.keys, "listOsCategories", name="ubu")["oscategory"][0]["name"] == "Ubuntu"
    assert cloud.ok(user.keys, "listOsTypes", keyword="no such system") == {}
    assert error_of(cloud, user, "listOsTypes", id="not-a-uuid")[0] == 431


def test_longest_texts_are_stored_whole_on_every_backend(database: Database) -> None:
    cloud = Cloud(database.sessions)
    admin = cloud.admin.keys
    smile = "\U0001f600"
    disk = cloud.ok(
        admin,
        "createDiskOffering",
        name=smile * 255,
        displaytext=smile * 4096,
        tags=smile * 4096,
        disksize="1",
    )["diskoffering"]
    assert (disk["name"], disk["displaytext"], disk["tags"]) == (
        smile * 255,
        smile * 4096,
        smile * 4096,
    )
    service = cloud.ok(
        admin,
        "createServiceOffering",
        **SMALL | {"name": smile * 255, "displaytext": smile * 255},
        tags=smile * 255,
        hosttags=smile * 255,
        **{"serviceofferingdetails[0]." + "k" * 255: smile * 255},
    )["serviceoffering"]
    assert (service["name"], service["hosttags"], service["storagetags"]) == (
        smile * 255,
        smile * 255,
        smile * 255,
    )
    assert service["serviceofferingdetails"] == {"k" * 255: smile * 255}
