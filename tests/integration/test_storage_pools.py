"""Primary storage pools through the real dispatcher against simulated hosts that run the
storage commands on real directories: create (connect every Up host of the scope), list,
update (capacity rows follow), maintenance jobs, delete (refused while volumes remain),
providers and tags, endpoint selection, and the capacity rows of the shared contract.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.api.views import storage_pools as views
from cirrostack.db.models import capacity as capacity_models
from cirrostack.db.models import infrastructure as infra_models
from cirrostack.db.models import offerings
from cirrostack.db.models import storage as models
from cirrostack.storage import host_pools, pool_stats, store_stats
from cirrostack.transport import endpoint
from tests.conftest import Database
from tests.integration.test_infra_commands import Infra

GIB = 1024**3


@pytest.fixture
def infra(sqlite_database: Database) -> Infra:
    return Infra(sqlite_database)


def _pool(infra: Infra, cluster: dict[str, Any], name: str = "ps1", **more: str) -> dict[str, Any]:
    fields = {
        "name": name,
        "url": f"nfs://nfs-{name}.test/export/{name}",
        "zoneid": cluster["zoneid"],
        "podid": cluster["podid"],
        "clusterid": cluster["id"],
        "tags": "ssd, fast",
    }
    return dict(infra.ok("createStoragePool", **(fields | more))["storagepool"])


def _rows(infra: Infra, pool_uuid: str) -> dict[int, capacity_models.HostCapacity]:
    with infra.database.sessions() as session:
        pool = session.scalars(
            sa.select(models.StoragePool).where(models.StoragePool.uuid == pool_uuid)
        ).one()
        found = session.scalars(
            sa.select(capacity_models.HostCapacity).where(
                capacity_models.HostCapacity.host_id == pool.id,
                capacity_models.HostCapacity.capacity_type.in_((2, 3, 9)),
            )
        )
        return {row.capacity_type: row for row in found}


def test_a_pool_is_connected_by_its_cluster_hosts_and_listed_as_cloudstack_does(
    infra: Infra,
) -> None:
    _, _, cluster, host = infra.stack()
    pool = _pool(infra, cluster)
    assert set(pool) <= views.STORAGE_POOL.field_names()
    assert (pool["state"], pool["type"], pool["scope"]) == ("Up", "NetworkFilesystem", "CLUSTER")
    assert (pool["ipaddress"], pool["path"], pool["tags"]) == (
        "nfs-ps1.test",
        "/export/ps1",
        "ssd,fast",
    )
    assert (pool["provider"], pool["hypervisor"], pool["overprovisionfactor"]) == (
        "DefaultPrimary",
        "Simulator",
        "2.0",
    )
    assert pool["disksizetotal"] > 0 and 0 <= pool["disksizeused"] <= pool["disksizetotal"]
    assert pool["disksizeallocated"] == 0
    assert infra.only("listStoragePools", "storagepool", id=pool["id"]) == pool
    assert infra.only("listStoragePools", "storagepool", name="PS1") == pool
    with infra.database.sessions() as session:
        refs = session.scalars(sa.select(models.StoragePoolHostRef)).all()
        assert len(refs) == 1 and refs[0].local_path
        stored = session.scalars(sa.select(models.StoragePool)).one()
        chosen = endpoint.for_pool(session, stored)
        assert chosen is not None and chosen.name == host["name"]
    rows = _rows(infra, pool["id"])
    assert set(rows) == {2, 3}
    assert rows[3].total_capacity == pool["disksizetotal"] * 2
    assert rows[2].total_capacity == pool["disksizetotal"]
    tags = infra.ok("listStorageTags")
    assert sorted(tag["name"] for tag in tags["storagetag"]) == ["fast", "ssd"]


def test_admin_capacity_is_kept_and_updates_move_the_rows(infra: Infra) -> None:
    _, _, cluster, _ = infra.stack()
    pool = _pool(infra, cluster, capacitybytes=str(10 * GIB))
    assert pool["disksizetotal"] == 10 * GIB
    updated = infra.ok(
        "updateStoragePool", id=pool["id"], capacitybytes=str(20 * GIB), tags="gold"
    )["storagepool"]
    assert (updated["disksizetotal"], updated["tags"]) == (20 * GIB, "gold")
    assert _rows(infra, pool["id"])[3].total_capacity == 40 * GIB
    disabled = infra.ok("updateStoragePool", id=pool["id"], enabled="false")["storagepool"]
    assert disabled["state"] == "Disabled"
    assert infra.ok("updateStoragePool", id=pool["id"], enabled="true")["storagepool"]["state"] == (
        "Up"
    )
    assert infra.only("listStoragePools", "storagepool", id=pool["id"])["tags"] == "gold"


def test_a_rule_tag_is_stored_whole_listed_as_a_rule_and_a_rule_outside_the_subset_refused(
    infra: Infra,
) -> None:
    _, _, cluster, _ = infra.stack()
    rule = "tags.length == 0 || tags.includes('ssd,nvme')"
    pool = _pool(infra, cluster, tags=rule, istagarule="true")
    assert (pool["tags"], pool["istagarule"]) == (rule, True)  # one tag: its comma kept
    with infra.database.sessions() as session:
        stored = session.scalars(sa.select(models.StoragePoolTag)).all()
        assert [(tag.tag, tag.is_tag_a_rule) for tag in stored] == [(rule, True)]
    code, text = infra.error(
        "createStoragePool", name="js", url="nfs://nfs-js.test/export/js",
        zoneid=cluster["zoneid"], podid=cluster["podid"], clusterid=cluster["id"],
        tags="tags.map(function (t) { return t; })", istagarule="true",
    )  # fmt: skip
    assert code == 431 and "subset of JavaScript" in text, text
    assert infra.ok("listStoragePools")["count"] == 1
    code, text = infra.error(
        "updateStoragePool", id=pool["id"], tags="while (true) {}", istagarule="true"
    )
    assert code == 431, text
    plain = infra.ok("updateStoragePool", id=pool["id"], tags="gold,fast")["storagepool"]
    assert (plain["tags"], plain["istagarule"]) == ("gold,fast", False)


@pytest.mark.parametrize(
    ("url", "wanted"),
    [
        ("ftp://x/y", "Unsupported storage url"),
        ("nfs:///export", "names no server"),
        ("nfs://srv", "names no absolute path"),
        ("nfs://srv/a/../b", "names no absolute path"),
    ],
)
def test_bad_urls_are_refused_and_leave_nothing(infra: Infra, url: str, wanted: str) -> None:
    _, _, cluster, _ = infra.stack()
    code, text = infra.error(
        "createStoragePool",
        name="bad",
        url=url,
        zoneid=cluster["zoneid"],
        podid=cluster["podid"],
        clusterid=cluster["id"],
    )
    assert (code, wanted in text) == (431, True), text
    assert infra.ok("listStoragePools").get("count", 0) == 0


def test_other_urls_parse_as_cloudstack_does(infra: Infra) -> None:
    _, _, cluster, _ = infra.stack()
    local = _pool(infra, cluster, "fs1", url="file://localhost/var/lib/cirro/fs1")
    assert (local["type"], local["ipaddress"], local["path"]) == (
        "Filesystem",
        "localhost",
        "/var/lib/cirro/fs1",
    )


def test_a_zone_pool_needs_a_hypervisor_and_a_provider_must_be_known(infra: Infra) -> None:
    zone, _, _, _ = infra.stack()
    base = {"name": "z", "url": "nfs://srv.test/export/z", "zoneid": zone["id"]}
    code, text = infra.error("createStoragePool", scope="zone", **base)
    assert (code, "needs a hypervisor" in text) == (431, True)
    code, text = infra.error(
        "createStoragePool", provider="SolidFire", hypervisor="Simulator", **base
    )
    assert (code, "Unknown primary storage provider" in text) == (431, True)
    made = infra.ok("createStoragePool", scope="zone", hypervisor="Simulator", **base)
    assert (made["storagepool"]["scope"], made["storagepool"]["state"]) == ("ZONE", "Up")


def test_a_pool_no_host_connects_is_refused_and_removed(infra: Infra) -> None:
    zone = infra.zone()
    pod = infra.pod(zone["id"])
    cluster = infra.cluster(zone["id"], pod["id"])  # no hosts
    code, text = infra.error(
        "createStoragePool",
        name="lonely",
        url="nfs://srv.test/export/lonely",
        zoneid=zone["id"],
        podid=pod["id"],
        clusterid=cluster["id"],
    )
    assert (code, "no host in its scope connected it" in text) == (534, True), text
    with infra.database.sessions() as session:
        assert session.scalars(sa.select(models.StoragePool)).all() == []
        assert (
            session.scalars(
                sa.select(capacity_models.HostCapacity).where(
                    capacity_models.HostCapacity.capacity_type.in_((2, 3))
                )
            ).all()
            == []
        )


def test_maintenance_jobs_move_the_pool(infra: Infra) -> None:
    _, _, cluster, _ = infra.stack()
    pool = _pool(infra, cluster)
    cloud, admin = infra.cloud, infra.admin
    job = cloud.job(admin, cloud.call(admin, "enableStorageMaintenance", id=pool["id"]))
    assert (job["jobstatus"], job["jobinstancetype"]) == (1, "StoragePool")
    assert job["jobresult"]["storagepool"]["state"] == "Maintenance"
    assert infra.status("enableStorageMaintenance", id=pool["id"]) == 534
    job = cloud.job(admin, cloud.call(admin, "cancelStorageMaintenance", id=pool["id"]))
    assert job["jobresult"]["storagepool"]["state"] == "Up"
    assert infra.status("cancelStorageMaintenance", id=pool["id"]) == 534


def _volume_on(infra: Infra, pool_uuid: str, state: str = "Ready", size: int = GIB) -> None:
    with infra.database.sessions() as session:
        pool = session.scalars(
            sa.select(models.StoragePool).where(models.StoragePool.uuid == pool_uuid)
        ).one()
        offering = offerings.DiskOffering(name="d1")
        session.add(offering)
        session.flush()
        session.add(
            models.Volume(
                name="v",
                account_id=2,
                domain_id=1,
                data_center_id=pool.data_center_id,
                pool_id=pool.id,
                volume_type="DATADISK",
                size=size,
                disk_offering_id=offering.id,
                state=state,
            )
        )
        session.commit()


def test_delete_is_refused_while_volumes_remain_and_then_removes_everything(infra: Infra) -> None:
    _, _, cluster, _ = infra.stack()
    pool = _pool(infra, cluster)
    _volume_on(infra, pool["id"])
    code, text = infra.error("deleteStoragePool", id=pool["id"])
    assert (code, "volume(s) are still on it" in text) == (536, True), (code, text)
    drift = infra.ok("recalculateStorageCapacity", id=pool["id"])["storagecapacitydrift"][0]
    assert (drift["recorded"], drift["actual"], drift["drift"]) == (0, GIB, -GIB)
    assert infra.only("listStoragePools", "storagepool", id=pool["id"])["disksizeallocated"] == GIB
    with infra.database.sessions() as session:
        session.execute(sa.update(models.Volume).values(state="Destroy"))
        session.commit()
    assert infra.error("deleteStoragePool", id=pool["id"])[0] == 536
    assert infra.ok("deleteStoragePool", id=pool["id"], forced="true")["success"] in (True, "true")
    assert infra.ok("listStoragePools").get("count", 0) == 0
    with infra.database.sessions() as session:
        gone = session.scalars(sa.select(models.StoragePool)).one()
        assert gone.uuid is None and gone.removed is not None
        assert session.scalars(sa.select(models.StoragePoolHostRef)).all() == []
        assert session.scalars(sa.select(models.StoragePoolTag)).all() == []
        left = session.scalars(
            sa.select(capacity_models.HostCapacity).where(
                capacity_models.HostCapacity.host_id == gone.id,
                capacity_models.HostCapacity.capacity_type.in_((2, 3, 9)),
            )
        ).all()
        assert left == []
    assert infra.error("deleteStoragePool", id=pool["id"])[0] == 431


def test_providers_are_listed_by_type(infra: Infra) -> None:
    primary = infra.ok("listStorageProviders", type="primary")["dataStoreProvider"]
    assert primary == [{"name": "DefaultPrimary", "type": "PRIMARY"}]
    image = infra.ok("listStorageProviders", type="image")["dataStoreProvider"]
    assert {p["name"] for p in image} == {"NFS", "S3"}
    assert infra.error("listStorageProviders", type="tape")[0] == 431


def test_the_stats_collector_writes_the_pools_use_and_its_storage_row(infra: Infra) -> None:
    _, _, cluster, _ = infra.stack()
    pool = _pool(infra, cluster)
    with infra.database.sessions() as session:
        session.execute(sa.update(models.StoragePool).values(used_bytes=0, capacity_bytes=1))
        session.commit()
    assert pool_stats.sweep(infra.database.sessions, infra.cloud.agents) == 1
    listed = infra.only("listStoragePools", "storagepool", id=pool["id"])
    assert listed["disksizetotal"] == pool["disksizetotal"]
    row = _rows(infra, pool["id"])[2]
    assert (row.total_capacity, row.used_capacity) == (
        listed["disksizetotal"],
        listed["disksizeused"],
    )
    assert pool_stats.interval_of("5000") == 5.0 and pool_stats.interval_of("soon") == 60.0


def test_for_pools_takes_the_narrower_scope() -> None:
    zone_pool = models.StoragePool(scope="ZONE", name="z")
    cluster_pool = models.StoragePool(scope="CLUSTER", name="c")
    host_pool = models.StoragePool(scope="HOST", name="h")
    assert endpoint.narrower(zone_pool, cluster_pool) is cluster_pool
    assert endpoint.narrower(cluster_pool, host_pool) is host_pool
    assert endpoint.narrower(zone_pool, None) is zone_pool
    assert endpoint.narrower(None, zone_pool) is zone_pool
    other_zone = models.StoragePool(scope="ZONE", name="z2")
    assert endpoint.narrower(zone_pool, other_zone) is zone_pool


def test_a_host_added_later_connects_the_cluster_pools(infra: Infra) -> None:
    _, _, cluster, _ = infra.stack()
    pool = _pool(infra, cluster)
    second = infra.host(cluster, url="http://sim-2?cpunumber=8&cpuspeed=2400&memory=17179869184")
    assert host_pools.connect(infra.database.sessions, infra.cloud.agents) == 1
    assert host_pools.connect(infra.database.sessions, infra.cloud.agents) == 0
    with infra.database.sessions() as session:
        refs = session.scalars(sa.select(models.StoragePoolHostRef.host_id)).all()
        hosts = session.scalars(
            sa.select(models.StoragePool).where(models.StoragePool.uuid == pool["id"])
        ).one()
        assert len(refs) == 2 and hosts.status == "Up"
    assert second["state"] == "Up"


def test_a_host_with_local_storage_in_a_local_zone_gets_a_local_pool(infra: Infra) -> None:
    zone = infra.zone(localstorageenabled="true")
    pod = infra.pod(zone["id"])
    cluster = infra.cluster(zone["id"], pod["id"])
    host = infra.host(cluster)
    with infra.database.sessions() as session:
        stored = session.scalars(
            sa.select(infra_models.Host).where(infra_models.Host.uuid == host["id"])
        ).one()
        local = bool(stored.total_size)
    if not local:
        pytest.skip("the simulated host reports no local storage")
    host_pools.connect(infra.database.sessions, infra.cloud.agents, [stored.id])
    listed = infra.only("listStoragePools", "storagepool", scope="HOST")
    assert (listed["name"], listed["type"], listed["state"]) == (
        f"{host['name']} Local Storage",
        "Filesystem",
        "Up",
    )
    assert set(_rows(infra, listed["id"])) == {2, 9}


def test_the_pool_lifecycle_on_every_backend(database: Database) -> None:
    infra = Infra(database)
    _, _, cluster, _ = infra.stack()
    pool = _pool(infra, cluster, name="Life")
    assert infra.only("listStoragePools", "storagepool", name="life")["state"] == "Up"
    infra.ok("updateStoragePool", id=pool["id"], capacitybytes=str(5 * GIB), enabled="false")
    assert _rows(infra, pool["id"])[3].total_capacity == 10 * GIB
    assert infra.ok("deleteStoragePool", id=pool["id"])["success"] in (True, "true")
    assert infra.ok("listStoragePools").get("count", 0) == 0


def test_list_capacity_sums_the_rows_per_zone_as_cloudstack_does(infra: Infra) -> None:
    zone, _, cluster, _ = infra.stack()
    _pool(infra, cluster, "cap1", capacitybytes=str(10 * GIB))
    _pool(infra, cluster, "cap2", capacitybytes=str(30 * GIB))
    allocated = infra.only("listCapacity", "capacity", type="3", zoneid=zone["id"])
    assert (allocated["name"], allocated["capacitytotal"], allocated["capacityused"]) == (
        "STORAGE_ALLOCATED",
        80 * GIB,
        0,
    )
    assert (allocated["percentused"], allocated["zonename"]) == ("0.00", zone["name"])
    in_cluster = infra.only("listCapacity", "capacity", type="2", clusterid=cluster["id"])
    assert (in_cluster["capacitytotal"], in_cluster["clustername"]) == (40 * GIB, "c1")
    kinds = {item["name"] for item in infra.ok("listCapacity", sortby="usage")["capacity"]}
    assert {"STORAGE", "STORAGE_ALLOCATED", "MEMORY", "CPU"} <= kinds
    assert infra.error("listCapacity", type="77")[0] == 431


def test_the_stats_collector_sizes_the_image_stores_and_lists_their_capacity(
    infra: Infra,
) -> None:
    """An NFS store's size and use are read from the zone's host (the mounted directory),
    shown by listImageStores and as SECONDARY_STORAGE by listCapacity; a deleted store's
    row goes."""
    zone, _, _, _ = infra.stack()
    store = infra.ok(
        "addImageStore", provider="NFS", url="nfs://nfs1.test/export/sec", zoneid=zone["id"]
    )
    uuid = store["imagestore"]["id"]
    assert store_stats.sweep(infra.database.sessions, infra.cloud.agents) == 1
    listed = infra.only("listImageStores", "imagestore", id=uuid)
    assert listed["disksizetotal"] > 0 and 0 <= listed["disksizeused"] <= listed["disksizetotal"]
    secondary = infra.only("listCapacity", "capacity", type="6", zoneid=zone["id"])
    assert (secondary["name"], secondary["capacitytotal"], secondary["capacityused"]) == (
        "SECONDARY_STORAGE",
        listed["disksizetotal"],
        listed["disksizeused"],
    )
    assert store_stats.sweep(infra.database.sessions, infra.cloud.agents) == 1  # updated
    assert len(infra.ok("listCapacity", type="6")["capacity"]) == 1
    infra.ok("deleteImageStore", id=uuid)
    assert infra.ok("listCapacity", type="6").get("capacity", []) == []
