"""explainStoragePlacement and findStoragePoolsForMigration through the real dispatcher:
every pool answered with its verdict, nothing claimed, admins only; the migration list marks
suitableformigration and leaves out the volume's own pool."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack.db.models import accounts, infrastructure, offerings, storage
from tests import allocator_rows, rows
from tests.cloud import Cloud, content
from tests.conftest import Database

GIB = allocator_rows.GIB


def build(database: Database) -> dict[str, Any]:
    with database.sessions() as session:
        zone, _pod, cluster = rows.zone_pod_cluster(session)
        cluster.hypervisor_type = "KVM"
        good = allocator_rows.pool(session, zone, name="good", cluster=cluster, tags=["ssd"])
        full = allocator_rows.pool(
            session, zone, name="full", cluster=cluster, tags=["ssd"], allocated=90 * GIB
        )
        plain = allocator_rows.pool(session, zone, name="plain", cluster=cluster)
        offering = offerings.DiskOffering(name="fast", disk_size=10 * GIB, tags="ssd")
        session.add(offering)
        session.flush()
        admin = session.scalars(sa.select(accounts.Account).limit(1)).one()
        volume = storage.Volume(
            name="v", account_id=admin.id, domain_id=admin.domain_id, data_center_id=zone.id,
            pool_id=good.id, volume_type="DATADISK", size=5 * GIB,
            disk_offering_id=offering.id, state="Ready",
        )  # fmt: skip
        session.add(volume)
        session.commit()
        return {
            "zone": zone.uuid, "cluster": cluster.uuid, "offering": offering.uuid,
            "good": good.uuid, "full": full.uuid, "plain": plain.uuid, "volume": volume.uuid,
            "good_id": good.id,
        }  # fmt: skip


def test_explain_answers_every_pool_and_claims_nothing(database: Database) -> None:
    cloud = Cloud(database.sessions)
    made = build(database)
    answer = cloud.ok(
        cloud.admin.keys, "explainStoragePlacement", zoneid=made["zone"],
        diskofferingid=made["offering"], clusterid=made["cluster"],
    )["storageplacement"]  # fmt: skip
    by_id = {pool["id"]: pool for pool in answer["storagepool"]}
    assert set(by_id) == {made["good"], made["full"], made["plain"]}
    assert by_id[made["good"]]["suitable"] is True and by_id[made["good"]]["rank"] == 1
    assert by_id[made["full"]]["reasons"] == [{"code": "allocated capacity", "text": "100% > 85%"}]
    assert by_id[made["plain"]]["reasons"][0]["code"] == "tags"
    assert answer["summary"].startswith("1 suitable pool: 2 rejected")
    assert answer["algorithm"] == "random"  # no owner: CloudStack shuffles
    assert answer["weighers"] == [
        {"name": "free", "multiplier": 0.0},
        {"name": "dispersion", "multiplier": 0.0},
    ]
    with database.sessions() as session:
        assert allocator_rows.allocated(session, made["good_id"]) == 0


def test_explain_is_for_admins_and_checks_its_parameters(database: Database) -> None:
    cloud = Cloud(database.sessions)
    made = build(database)
    domain = cloud.domain("d1")
    user = cloud.member("alice", domain)
    answer = cloud.call(user.keys, "explainStoragePlacement", zoneid=made["zone"], size="1")
    assert answer.status in (401, 432, 531)
    answer = cloud.call(cloud.admin.keys, "explainStoragePlacement", zoneid=made["zone"])
    assert answer.status == 431 and "size" in content(answer)["errortext"]


def test_find_storage_pools_for_migration(database: Database) -> None:
    cloud = Cloud(database.sessions)
    made = build(database)
    found = cloud.ok(cloud.admin.keys, "findStoragePoolsForMigration", id=made["volume"])
    pools = {pool["id"]: pool for pool in found["storagepool"]}
    assert set(pools) == {made["full"], made["plain"]}  # not its own pool
    assert pools[made["full"]]["suitableformigration"] is True  # detached: no capacity check
    assert pools[made["plain"]]["suitableformigration"] is False


def test_a_failed_placement_carries_the_summary(database: Database) -> None:
    from cirrostack.allocators import pools
    from cirrostack.api import errors as api_errors

    with database.sessions() as session:
        zone = infrastructure.DataCenter(name="empty")
        session.add(zone)
        session.commit()
        request = pools.VolumeRequest(
            zone_id=zone.id, size=GIB, disk_offering_id=None, tags=(), use_local_storage=False
        )
        try:
            pools.place(session, request)
        except Exception as exc:  # the API mapping of the error is the subject
            error = api_errors.from_exception(exc)
        assert int(error.code) == 533 and int(error.cs_code or 0) == 4325
        assert "no suitable pool" in error.text
