"""createVolume, listVolumes, updateVolume, deleteVolume of volumes on no pool, through the
dispatcher on every backend: the records, the sizes CloudStack allows, the limits reserved and
released, and who sees what."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from cirrostack.accounts import limits
from cirrostack.accounts.resources import GIB, ResourceType
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import storage as models
from tests.cloud import Cloud, Member, content


def _zone(cloud: Cloud) -> str:
    return str(
        cloud.ok(
            cloud.admin.keys,
            "createZone",
            name="z1",
            dns1="8.8.8.8",
            internaldns1="10.0.0.1",
            networktype="Advanced",
        )["zone"]["id"]
    )


def _offering(cloud: Cloud, name: str, **named: str) -> str:
    created = cloud.ok(cloud.admin.keys, "createDiskOffering", name=name, displaytext=name, **named)
    return str(created["diskoffering"]["id"])


def _create(cloud: Cloud, keys: Any, **named: str) -> dict[str, Any]:
    answer = cloud.call(keys, "createVolume", **named)
    assert answer.status == 200, answer.body
    assert "id" in content(answer), content(answer)
    job = cloud.job(keys, answer)
    assert job["jobstatus"] == 1, job
    assert job["jobinstancetype"] == "Volume"
    volume: dict[str, Any] = job["jobresult"]["volume"]
    assert volume["id"] == content(answer)["id"]
    return volume


def _error(cloud: Cloud, keys: Any, command: str, **named: str) -> tuple[int, str]:
    answer = cloud.call(keys, command, **named)
    if answer.status == 200 and "jobid" in content(answer):
        job = cloud.job(keys, answer)
        return int(job["jobresultcode"]), str(job["jobresult"].get("errortext"))
    return answer.status, str(content(answer).get("errortext"))


def _count(cloud: Cloud, name: str, kind: ResourceType) -> int:
    with cloud.sessions() as session:
        account = session.scalars(
            sa.select(account_models.Account).where(account_models.Account.account_name == name)
        ).one()
        return limits.count_of(session, kind, account_id=account.id)


def test_create_list_update_delete_a_data_disk(cloud: Cloud) -> None:
    zone = _zone(cloud)
    fixed = _offering(cloud, "five", disksize="5")
    domain = cloud.domain("D")
    user = cloud.member("u", domain)
    volume = _create(cloud, user.keys, name="data1", diskofferingid=fixed, zoneid=zone, size="9")
    assert volume["state"] == "Allocated"
    assert volume["type"] == "DATADISK"
    assert volume["size"] == 5 * GIB  # a fixed offering's size wins over size=
    assert volume["account"] == "u" and volume["zoneid"] == zone
    assert volume["diskofferingname"] == "five" and volume["provisioningtype"] == "thin"
    assert "attached" not in volume and "storageid" not in volume and "path" not in volume
    assert _count(cloud, "u", ResourceType.VOLUME) == 1
    assert _count(cloud, "u", ResourceType.PRIMARY_STORAGE) == 5 * GIB

    listed = cloud.ok(user.keys, "listVolumes")
    assert listed["count"] == 1 and listed["volume"][0]["id"] == volume["id"]
    assert cloud.ok(user.keys, "listVolumes", name="DATA1")["count"] == 1
    assert cloud.ok(user.keys, "listVolumes", keyword="ata")["count"] == 1
    assert cloud.ok(user.keys, "listVolumes", type="root") == {}
    assert cloud.ok(cloud.admin.keys, "listVolumes") == {}  # not the admin's own
    seen = cloud.ok(cloud.admin.keys, "listVolumes", listall="true")["volume"][0]
    assert seen["id"] == volume["id"] and "storageid" not in seen  # no pool yet

    renamed = cloud.job(
        user.keys, cloud.call(user.keys, "updateVolume", id=volume["id"], name="d2")
    )
    assert renamed["jobresult"]["volume"]["name"] == "d2"
    code, text = _error(cloud, user.keys, "updateVolume", id=volume["id"], path="/x")
    assert code == 531, text

    assert cloud.ok(user.keys, "deleteVolume", id=volume["id"]) == {"success": True}
    assert cloud.ok(user.keys, "listVolumes") == {}
    assert _count(cloud, "u", ResourceType.VOLUME) == 0
    assert _count(cloud, "u", ResourceType.PRIMARY_STORAGE) == 0
    with cloud.sessions() as session:
        row = session.scalars(sa.select(models.Volume)).one()
        assert row.state == "Expunged" and row.removed is not None
    code, _ = _error(cloud, user.keys, "deleteVolume", id=volume["id"])
    assert code == 431


def test_custom_sizes_and_refusals(cloud: Cloud) -> None:
    zone = _zone(cloud)
    custom = _offering(cloud, "custom", customized="true")
    admin = cloud.admin.keys
    assert _create(cloud, admin, diskofferingid=custom, zoneid=zone, size="20")["size"] == 20 * GIB
    code, text = _error(cloud, admin, "createVolume", diskofferingid=custom, zoneid=zone)
    assert code == 431 and "custom size" in text
    code, text = _error(
        cloud, admin, "createVolume", diskofferingid=custom, zoneid=zone, size="5000"
    )
    assert code == 431 and "out of allowed range" in text
    code, text = _error(cloud, admin, "createVolume", diskofferingid=custom)
    assert code == 431 and "zoneid" in text
    code, text = _error(cloud, admin, "createVolume", zoneid=zone)
    assert code == 431 and "diskofferingid" in text
    fake = "5d7ed2a6-3f3c-4a7e-8b1d-000000000000"
    code, text = _error(cloud, admin, "createVolume", zoneid=zone, snapshotid=fake)
    assert code == 431 and "not supported yet" in text
    code, text = _error(cloud, admin, "createVolume", zoneid=zone, diskofferingid=fake)
    assert code == 431 and "disk offering" in text
    with cloud.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.Volume)) == 1


def test_limits_refuse_and_nothing_is_written(cloud: Cloud) -> None:
    zone = _zone(cloud)
    fixed = _offering(cloud, "five", disksize="5")
    domain = cloud.domain("D")
    user = cloud.member("u", domain)
    admin = cloud.admin.keys
    cloud.ok(admin, "updateResourceLimit", resourcetype="2", max="1", account="u", domainid=domain)
    _create(cloud, user.keys, diskofferingid=fixed, zoneid=zone)
    code, text = _error(cloud, user.keys, "createVolume", diskofferingid=fixed, zoneid=zone)
    assert code == 535, (code, text)  # ResourceAllocationException
    assert "volume" in text
    cloud.ok(admin, "updateResourceLimit", resourcetype="2", max="5", account="u", domainid=domain)
    cloud.ok(admin, "updateResourceLimit", resourcetype="10", max="7", account="u", domainid=domain)
    code, text = _error(cloud, user.keys, "createVolume", diskofferingid=fixed, zoneid=zone)
    assert "primary_storage" in text, text
    assert _count(cloud, "u", ResourceType.VOLUME) == 1
    assert cloud.ok(user.keys, "listVolumes")["count"] == 1


def test_an_admin_creates_for_an_account_and_strangers_see_nothing(cloud: Cloud) -> None:
    zone = _zone(cloud)
    fixed = _offering(cloud, "five", disksize="5")
    domain = cloud.domain("D")
    owner = cloud.member("u", domain)
    stranger: Member = cloud.member("s", domain)
    volume = _create(
        cloud, cloud.admin.keys, diskofferingid=fixed, zoneid=zone, account="u", domainid=domain
    )
    assert volume["account"] == "u"
    assert cloud.ok(owner.keys, "listVolumes")["count"] == 1
    assert cloud.ok(stranger.keys, "listVolumes", listall="true") == {}
    code, text = _error(cloud, stranger.keys, "deleteVolume", id=volume["id"])
    assert code == 431 and volume["id"] in text
    code, _ = _error(
        cloud,
        stranger.keys,
        "createVolume",
        diskofferingid=fixed,
        zoneid=zone,
        account="u",
        domainid=domain,
    )
    assert code == 431


def test_an_allocated_volume_is_resized_as_a_record(cloud: Cloud) -> None:
    zone = _zone(cloud)
    custom = _offering(cloud, "custom", customized="true")
    domain = cloud.domain("D")
    user = cloud.member("u", domain)
    volume = _create(cloud, user.keys, diskofferingid=custom, zoneid=zone, size="20")
    job = cloud.job(user.keys, cloud.call(user.keys, "resizeVolume", id=volume["id"], size="30"))
    assert job["jobresult"]["volume"]["size"] == 30 * GIB
    assert _count(cloud, "u", ResourceType.PRIMARY_STORAGE) == 30 * GIB
    code, text = _error(cloud, user.keys, "resizeVolume", id=volume["id"], size="10")
    assert code == 431 and "shrinkok" in text
    job = cloud.job(
        user.keys,
        cloud.call(user.keys, "resizeVolume", id=volume["id"], size="10", shrinkok="true"),
    )
    assert job["jobresult"]["volume"]["size"] == 10 * GIB
    assert _count(cloud, "u", ResourceType.PRIMARY_STORAGE) == 10 * GIB


def test_concurrent_creations_never_exceed_the_volume_limit(cloud: Cloud) -> None:
    zone = _zone(cloud)
    fixed = _offering(cloud, "five", disksize="5")
    domain = cloud.domain("D")
    user = cloud.member("u", domain)
    admin = cloud.admin.keys
    cloud.ok(admin, "updateResourceLimit", resourcetype="2", max="3", account="u", domainid=domain)
    codes: list[int] = []

    def create() -> None:
        answer = cloud.call(user.keys, "createVolume", diskofferingid=fixed, zoneid=zone)
        codes.append(answer.status)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(codes) == [200] * 3 + [535] * 5, codes
    assert _count(cloud, "u", ResourceType.VOLUME) == 3
    assert _count(cloud, "u", ResourceType.PRIMARY_STORAGE) == 15 * GIB
    assert cloud.ok(user.keys, "listVolumes")["count"] == 3
