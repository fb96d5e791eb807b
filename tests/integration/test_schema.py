"""The core schema after migration, on every backend: CloudStack's tables and columns, working
foreign keys, defaults, unique constraints and cascades."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db import base
from cirrostack.db.models import (
    accounts,
    capacity,
    compute,
    configuration,
    events,
    guest_os,
    infrastructure,
    jobs,
    network,
    offerings,
    snapshots,
    storage,
    tags,
    templates,
)
from tests import rows
from tests.conftest import Database

CORE_TABLES = {
    "configuration", "data_center", "data_center_details", "host_pod_ref", "cluster",
    "cluster_details", "host", "host_details", "host_tags", "guest_os_category", "guest_os",
    "vm_instance", "user_vm", "user_vm_details", "nics", "networks", "network_offerings",
    "vm_network_map", "vlan", "user_ip_address", "volumes", "snapshots", "snapshot_store_ref",
    "snapshot_policy", "storage_pool", "storage_pool_details", "storage_pool_host_ref",
    "storage_pool_tags", "image_store", "image_store_details", "vm_template",
    "template_store_ref", "template_spool_ref", "volume_store_ref", "disk_offering",
    "disk_offering_details", "service_offering", "service_offering_details", "async_job",
    "event", "op_host_capacity", "usage_event", "cloud_usage", "resource_tags",
    "account_details", "domain_details", "resource_limit", "resource_count",
}  # fmt: skip

#: Columns whose CloudStack names other code (and CloudStack habits) rely on.
KEY_COLUMNS = {
    "vm_instance": {"state", "update_count", "update_time", "host_id", "last_host_id",
                    "instance_name", "vm_type", "service_offering_id", "vm_template_id"},
    "volumes": {"pool_id", "instance_id", "volume_type", "state", "update_count", "updated",
                "device_id", "disk_offering_id", "template_id", "provisioning_type"},
    "snapshots": {"status", "update_count", "updated", "volume_id", "snapshot_type", "size"},
    "snapshot_store_ref": {"store_id", "store_role", "snapshot_id", "parent_snapshot_id",
                           "physical_size", "state", "update_count", "updated"},
    "template_store_ref": {"store_id", "template_id", "download_state", "destroyed", "state",
                           "update_count", "updated"},
    "template_spool_ref": {"pool_id", "template_id", "template_size", "marked_for_gc", "state",
                           "update_count", "updated"},
    "volume_store_ref": {"store_id", "volume_id", "zone_id", "destroyed", "state",
                         "update_count", "updated"},
    "vm_template": {"state", "update_count", "updated", "format", "guest_os_id", "size"},
    "networks": {"state", "update_count", "updated", "related", "network_offering_id",
                 "traffic_type", "broadcast_domain_type", "guru_name"},
    "storage_pool": {"status", "used_bytes", "capacity_bytes", "pool_type", "scope",
                     "storage_provider_name", "capacity_iops"},
    "host": {"status", "resource_state", "update_count", "last_ping", "mgmt_server_id", "guid",
             "type", "cluster_id"},
    "async_job": {"job_status", "job_process_status", "job_result_code", "job_result",
                  "job_cmd", "job_cmd_info", "instance_type", "instance_id", "job_init_msid",
                  "job_executing_msid", "job_complete_msid", "last_updated", "last_polled",
                  "removed"},
    "event": {"type", "state", "description", "level", "start_id", "parameters", "archived",
              "display", "resource_id", "resource_type"},
    "op_host_capacity": {"host_id", "capacity_type", "capacity_state", "used_capacity",
                         "reserved_capacity", "total_capacity"},
    "configuration": {"name", "value", "default_value", "category", "instance", "component",
                      "scope", "is_dynamic", "updated"},
    "user_ip_address": {"public_ip_address", "source_network_id", "vlan_db_id", "allocated",
                        "state"},
}  # fmt: skip


def test_every_core_table_exists(database: Database) -> None:
    present = set(sa.inspect(database.engine).get_table_names())
    assert present >= CORE_TABLES, sorted(CORE_TABLES - present)


@pytest.mark.parametrize("table", sorted(KEY_COLUMNS))
def test_key_columns_have_cloudstack_names(database: Database, table: str) -> None:
    columns = {c["name"] for c in sa.inspect(database.engine).get_columns(table)}
    assert KEY_COLUMNS[table] <= columns, sorted(KEY_COLUMNS[table] - columns)


def test_unique_constraints_cloudstack_has(database: Database) -> None:
    inspector = sa.inspect(database.engine)

    def unique_sets(table: str) -> set[tuple[str, ...]]:
        found = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
        found |= {
            tuple(map(str, i["column_names"])) for i in inspector.get_indexes(table) if i["unique"]
        }
        return found

    assert ("template_id", "pool_id") in unique_sets("template_spool_ref")
    assert ("public_ip_address", "source_network_id") in unique_sets("user_ip_address")
    assert ("resource_id", "resource_type", "key") in unique_sets("resource_tags")
    assert ("guid",) in unique_sets("host")
    assert ("unique_name",) in unique_sets("network_offerings")
    assert ("role_id", "rule") in unique_sets("role_permissions")
    for table in ("resource_limit", "resource_count"):
        assert {("type", "account_id"), ("type", "domain_id")} <= unique_sets(table)


@dataclass(frozen=True)
class Graph:
    """Ids of a small connected deployment, inserted by ``_insert_graph``."""

    zone: int
    cluster: int
    host: int
    pool: int
    template: int
    vm: int
    volume: int
    snapshot: int
    job: int
    event: int


def _insert_graph(session: Session) -> Graph:
    domain = accounts.Domain(name="ROOT", path="/")
    session.add(domain)
    session.flush()
    account = accounts.Account(account_name="admin", type=1, domain_id=domain.id)
    session.add(account)
    session.flush()
    user = accounts.User(username="admin", password="x", account_id=account.id)
    zone = infrastructure.DataCenter(name="zone1")
    category = guest_os.GuestOsCategory(name="Other")
    disk = offerings.DiskOffering(name="Small", disk_size=5 * 2**30)
    session.add_all([user, zone, category, disk])
    session.flush()
    pod = infrastructure.HostPod(
        name="pod1",
        data_center_id=zone.id,
        gateway="10.0.0.1",
        cidr_address="10.0.0.0",
        cidr_size=24,
    )
    os_ = guest_os.GuestOs(category_id=category.id, display_name="Other Linux (64-bit)")
    compute_offering = offerings.ServiceOffering(
        name="Small", cpu=1, speed=1000, ram_size=512, disk_offering_id=disk.id
    )
    session.add_all([pod, os_, compute_offering])
    session.flush()
    cluster = infrastructure.Cluster(
        name="cluster1", pod_id=pod.id, data_center_id=zone.id, hypervisor_type="KVM"
    )
    session.add(cluster)
    session.flush()
    session.add(
        infrastructure.ClusterDetail(cluster_id=cluster.id, name="cpuOvercommitRatio", value="1")
    )
    host = infrastructure.Host(
        name="kvm1",
        type="Routing",
        data_center_id=zone.id,
        pod_id=pod.id,
        cluster_id=cluster.id,
        private_ip_address="10.0.0.10",
        version="4.20.0",
        guid="kvm1-guid",
        cpus=8,
        speed=2000,
        ram=16 * 2**30,
    )
    pool = storage.StoragePool(
        name="nfs1",
        pool_type="NetworkFilesystem",
        host_address="nfs.example",
        path="/export/primary",
        data_center_id=zone.id,
        pod_id=pod.id,
        cluster_id=cluster.id,
        scope="CLUSTER",
        capacity_bytes=2**40,
        used_bytes=0,
    )
    image_store = storage.ImageStore(
        name="sec1",
        protocol="nfs",
        url="nfs://nfs.example/export/secondary",
        image_provider_name="NFS",
        data_center_id=zone.id,
    )
    template = templates.VmTemplate(
        name="tiny", format="QCOW2", account_id=account.id, guest_os_id=os_.id, size=2**30
    )
    session.add_all([host, pool, image_store, template])
    session.flush()
    session.add_all(
        [
            storage.StoragePoolHostRef(host_id=host.id, pool_id=pool.id, local_path="/mnt/p"),
            templates.TemplateStoreRef(store_id=image_store.id, template_id=template.id),
            templates.TemplateSpoolRef(pool_id=pool.id, template_id=template.id),
            capacity.HostCapacity(
                host_id=pool.id,
                data_center_id=zone.id,
                pod_id=pod.id,
                cluster_id=cluster.id,
                total_capacity=2**40,
                capacity_type=2,
            ),
        ]
    )
    vm = compute.VmInstance(
        name="vm1",
        instance_name="i-2-1-VM",
        type="User",
        vm_type="User",
        vm_template_id=template.id,
        guest_os_id=os_.id,
        service_offering_id=compute_offering.id,
        data_center_id=zone.id,
        account_id=account.id,
        domain_id=domain.id,
        user_id=user.id,
        vnc_password="secret",
        hypervisor_type="KVM",
    )
    session.add(vm)
    session.flush()
    session.add(compute.UserVm(id=vm.id, display_name="my vm"))
    volume = storage.Volume(
        name="ROOT-1",
        account_id=account.id,
        domain_id=domain.id,
        data_center_id=zone.id,
        pool_id=pool.id,
        instance_id=vm.id,
        device_id=0,
        volume_type="ROOT",
        size=2**30,
        disk_offering_id=disk.id,
        template_id=template.id,
    )
    session.add(volume)
    session.flush()
    snapshot = snapshots.Snapshot(
        data_center_id=zone.id,
        account_id=account.id,
        domain_id=domain.id,
        volume_id=volume.id,
        disk_offering_id=disk.id,
        name="vm1_ROOT-1_20260101000000",
        snapshot_type=0,
        type_description="MANUAL",
        size=2**30,
        hypervisor_type="KVM",
    )
    job = jobs.AsyncJob(
        user_id=user.id,
        account_id=account.id,
        job_cmd="CreateSnapshotCmd",
        instance_type="Snapshot",
    )
    event = events.Event(
        type="SNAPSHOT.CREATE",
        state="Scheduled",
        description="creating snapshot",
        user_id=user.id,
        account_id=account.id,
        domain_id=domain.id,
    )
    session.add_all([snapshot, job, event])
    session.flush()
    session.add(
        snapshots.SnapshotStoreRef(
            store_id=pool.id, store_role="Primary", snapshot_id=snapshot.id, volume_id=volume.id
        )
    )
    return Graph(
        zone=zone.id,
        cluster=cluster.id,
        host=host.id,
        pool=pool.id,
        template=template.id,
        vm=vm.id,
        volume=volume.id,
        snapshot=snapshot.id,
        job=job.id,
        event=event.id,
    )


def test_round_trip_of_a_connected_graph(database: Database) -> None:
    with database.sessions.begin() as session:
        graph = _insert_graph(session)

    with database.sessions() as session:
        vm = session.get_one(compute.VmInstance, graph.vm)
        assert (vm.state, vm.update_count, vm.update_time, vm.host_id) == ("Stopped", 0, None, None)
        assert vm.display_vm is True and vm.ha_enabled is False
        assert len(vm.uuid) == 36 and vm.created is not None and vm.removed is None
        assert session.get_one(compute.UserVm, graph.vm).display_name == "my vm"

        volume = session.get_one(storage.Volume, graph.volume)
        assert (volume.state, volume.update_count, volume.provisioning_type) == (
            "Allocated",
            0,
            "thin",
        )
        assert (volume.pool_id, volume.instance_id) == (graph.pool, graph.vm)

        snapshot = session.get_one(snapshots.Snapshot, graph.snapshot)
        assert (snapshot.status, snapshot.update_count) == ("Allocated", 0)
        ref = session.scalars(
            sa.select(snapshots.SnapshotStoreRef).where(
                snapshots.SnapshotStoreRef.snapshot_id == graph.snapshot
            )
        ).one()
        assert (ref.store_id, ref.store_role, ref.state, ref.parent_snapshot_id) == (
            graph.pool,
            "Primary",
            "Allocated",
            0,
        )

        template = session.get_one(templates.VmTemplate, graph.template)
        assert (template.state, template.update_count) == ("Active", 0)
        spool = session.scalars(sa.select(templates.TemplateSpoolRef)).one()
        assert (spool.state, spool.download_state, spool.marked_for_gc) == (
            "Allocated",
            "NOT_DOWNLOADED",
            False,
        )

        host = session.get_one(infrastructure.Host, graph.host)
        assert (host.status, host.resource_state, host.update_count, host.last_ping) == (
            "Creating",
            "Creating",
            0,
            0,
        )
        assert host.ram == 16 * 2**30

        pool = session.get_one(storage.StoragePool, graph.pool)
        assert (pool.status, pool.capacity_bytes, pool.storage_provider_name) == (
            "Initial",
            2**40,
            "DefaultPrimary",
        )

        job = session.get_one(jobs.AsyncJob, graph.job)
        assert (job.job_status, job.job_result_code, job.job_result, job.removed) == (
            0,
            0,
            None,
            None,
        )

        event = session.get_one(events.Event, graph.event)
        assert (event.state, event.level, event.start_id, event.archived) == (
            "Scheduled",
            "INFO",
            0,
            False,
        )

        cap = session.scalars(sa.select(capacity.HostCapacity)).one()
        assert (cap.host_id, cap.capacity_type, cap.used_capacity, cap.reserved_capacity) == (
            graph.pool,
            2,
            0,
            0,
        )


def test_foreign_keys_are_enforced(database: Database) -> None:
    with database.sessions.begin() as session:
        graph = _insert_graph(session)
    with pytest.raises(sa.exc.IntegrityError), database.sessions.begin() as session:
        session.execute(
            sa.update(storage.Volume)
            .where(storage.Volume.id == graph.volume)
            .values(pool_id=999_999)
        )


def test_template_copy_is_unique_per_pool(database: Database) -> None:
    with database.sessions.begin() as session:
        graph = _insert_graph(session)
    with pytest.raises(sa.exc.IntegrityError), database.sessions.begin() as session:
        session.add(templates.TemplateSpoolRef(pool_id=graph.pool, template_id=graph.template))


def test_deleting_a_cluster_deletes_its_details(database: Database) -> None:
    with database.sessions.begin() as session:
        _zone, _pod, cluster = rows.zone_pod_cluster(session)
        session.add_all(
            [
                infrastructure.ClusterDetail(cluster_id=cluster.id, name=name, value="2")
                for name in ("cpuOvercommitRatio", "memoryOvercommitRatio")
            ]
        )
    with database.sessions.begin() as session:
        session.execute(
            sa.delete(infrastructure.Cluster).where(infrastructure.Cluster.id == cluster.id)
        )
    with database.sessions() as session:
        assert session.scalars(sa.select(infrastructure.ClusterDetail)).all() == []


def test_deleting_a_vm_row_deletes_its_dependents(database: Database) -> None:
    with database.sessions.begin() as session:
        graph = _insert_graph(session)
        offering = network.NetworkOffering(
            unique_name="System-Guest-Network", display_text="guest", traffic_type="Guest"
        )
        session.add(offering)
        session.flush()
        account = session.scalars(sa.select(accounts.Account)).one()
        net = network.Network(
            traffic_type="Guest",
            broadcast_domain_type="Vlan",
            network_offering_id=offering.id,
            data_center_id=graph.zone,
            guru_name="ExternalGuestNetworkGuru",
            account_id=account.id,
            domain_id=account.domain_id,
        )
        session.add(net)
        session.flush()
        net.related = net.id
        session.add_all(
            [
                compute.UserVmDetail(vm_id=graph.vm, name="rootdisksize", value="10"),
                network.Nic(instance_id=graph.vm, network_id=net.id, strategy="Start"),
                network.VmNetworkMap(vm_id=graph.vm, network_id=net.id),
            ]
        )
    with database.sessions.begin() as session:
        session.execute(sa.delete(snapshots.SnapshotStoreRef))
        session.execute(sa.delete(snapshots.Snapshot))
        session.execute(sa.delete(compute.VmInstance).where(compute.VmInstance.id == graph.vm))
    with database.sessions() as session:
        for model in (
            compute.UserVm,
            compute.UserVmDetail,
            network.Nic,
            network.VmNetworkMap,
            storage.Volume,
        ):
            assert session.scalars(sa.select(model)).all() == [], model.__tablename__
        assert session.get_one(network.Network, net.id).related == net.id


def test_deleted_storage_pools_may_all_have_a_null_uuid(database: Database) -> None:
    """CloudStack NULLs a deleted pool's uuid to free it; several such pools may coexist."""
    with database.sessions.begin() as session:
        graph = _insert_graph(session)
        other = storage.StoragePool(
            name="gone",
            pool_type="NetworkFilesystem",
            host_address="h",
            path="/p",
            data_center_id=graph.zone,
        )
        session.add(other)
        session.flush()
        for pool in (other, session.get_one(storage.StoragePool, graph.pool)):
            pool.uuid, pool.removed = None, base.utcnow()
    with database.sessions() as session:
        freed = sa.select(sa.func.count()).where(storage.StoragePool.uuid.is_(None))
        assert session.scalar(freed) == 2


def test_settings_tags_and_details_round_trip(database: Database) -> None:
    with database.sessions.begin() as session:
        graph = _insert_graph(session)
        account = session.scalars(sa.select(accounts.Account)).one()
        session.add_all(
            [
                configuration.Configuration(
                    name="storage.overprovisioning.factor",
                    value="2",
                    default_value="2",
                    category="Storage",
                    component="StorageManager",
                    scope="StoragePool",
                    is_dynamic=True,
                    description="x" * 1024,
                ),
                configuration.AccountDetail(
                    account_id=account.id, name="preferred.storage.pool", value=""
                ),
                configuration.DomainDetail(
                    domain_id=account.domain_id, name="max.account.user.vms", value="5"
                ),
                storage.StoragePoolDetail(
                    pool_id=graph.pool, name="storage.overprovisioning.factor", value="3"
                ),
                tags.ResourceTag(
                    key="env",
                    value="prod",
                    resource_id=graph.vm,
                    resource_type="UserVm",
                    domain_id=account.domain_id,
                    account_id=account.id,
                ),
            ]
        )
    with database.sessions() as session:
        setting = session.get_one(configuration.Configuration, "storage.overprovisioning.factor")
        assert (setting.instance, setting.is_dynamic, len(setting.description or "")) == (
            "DEFAULT",
            True,
            1024,
        )
        tag = session.scalars(sa.select(tags.ResourceTag)).one()
        assert (tag.key, tag.resource_id, len(tag.uuid)) == ("env", graph.vm, 36)
