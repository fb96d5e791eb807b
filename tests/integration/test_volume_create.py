"""A volume created on a pool, end to end on real files: the simulated host's storage processor
runs qemu-img in the fleet's directory, and the server records what it made.

Empty volumes from an offering (a qcow2 file at the recorded path), volumes from a template
(a THIN clone whose backing file is the pool's one copy of the template), ten concurrent
creations from one template making exactly one copy, failures leaving nothing behind, and
deleteVolume removing the file and giving the capacity back.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.agent import qemu_img as qemu
from cirrostack.api import registry
from cirrostack.db import base
from cirrostack.db.models import capacity, events, guest_os, templates
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.jobs import reaper
from cirrostack.protocol import storage as protocol
from cirrostack.storage import pool_targets, volume_create
from tests import job_seam
from tests.cloud import Cloud, content

GIB = 1024**3
MIB = 1024**2


_Job = job_seam.TestJob


class _World:
    def __init__(self, cloud: Cloud, qemu_img: qemu.QemuImg) -> None:
        self.cloud = cloud
        self.qemu = qemu_img
        admin = cloud.admin.keys
        self.zone = cloud.ok(
            admin,
            "createZone",
            name="z1",
            dns1="8.8.8.8",
            internaldns1="10.0.0.1",
            networktype="Advanced",
        )["zone"]["id"]
        pod = cloud.ok(
            admin,
            "createPod",
            name="p1",
            zoneid=self.zone,
            gateway="172.16.0.1",
            netmask="255.255.255.0",
            startip="172.16.0.10",
            endip="172.16.0.200",
        )["pod"]["id"]
        cluster = cloud.ok(
            admin,
            "addCluster",
            clustername="c1",
            clustertype="CloudManaged",
            hypervisor="Simulator",
            zoneid=self.zone,
            podid=pod,
        )["cluster"][0]["id"]
        cloud.ok(
            admin,
            "addHost",
            zoneid=self.zone,
            podid=pod,
            clusterid=cluster,
            hypervisor="Simulator",
            url="http://sim-1?cpunumber=4&cpuspeed=2000&memory=8589934592",
        )
        self.offering = cloud.ok(
            admin, "createDiskOffering", name="one", displaytext="one", disksize="1"
        )["diskoffering"]["id"]
        with cloud.sessions() as session:
            cluster_row = session.scalars(sa.select(infra.Cluster)).one()
            pool = models.StoragePool(
                name="pool1",
                pool_type="SharedMountPoint",
                host_address="localhost",
                path="/pool1",
                data_center_id=cluster_row.data_center_id,
                pod_id=cluster_row.pod_id,
                cluster_id=cluster_row.id,
                scope="CLUSTER",
                hypervisor="Simulator",
                capacity_bytes=100 * GIB,
                used_bytes=0,
                status="Up",
                created=base.utcnow(),
            )
            session.add(pool)
            session.flush()
            session.add(
                capacity.HostCapacity(
                    host_id=pool.id,
                    data_center_id=pool.data_center_id,
                    pod_id=pool.pod_id,
                    cluster_id=pool.cluster_id,
                    used_capacity=0,
                    total_capacity=100 * GIB,
                    capacity_type=3,
                    created=base.utcnow(),
                )
            )
            session.commit()
            self.pool_id = pool.id
            # What addStoragePool does (the pools helper): the pool's host connects it.
            target = pool_targets.target_for(session, pool)
            store = pool_targets.store_of(pool)
        connect = protocol.ModifyStoragePoolCommand(add=True, pool=store)
        pool_targets.exchange(cloud.agents, target, connect, protocol.ModifyStoragePoolAnswer)

    @property
    def common(self) -> Path:
        return Path(self.cloud.agents.fleet.common())  # type: ignore[attr-defined]

    @property
    def pool_dir(self) -> Path:
        return self.common / "_shared" / "pool1"

    def allocated(self) -> int:
        with self.cloud.sessions() as session:
            return int(
                session.scalar(
                    sa.select(capacity.HostCapacity.used_capacity).where(
                        capacity.HostCapacity.host_id == self.pool_id,
                        capacity.HostCapacity.capacity_type == 3,
                    )
                )
                or 0
            )

    def volume(self, template_id: int | None = None) -> str:
        answer = self.cloud.call(
            self.cloud.admin.keys, "createVolume", diskofferingid=self.offering, zoneid=self.zone
        )
        uuid = str(content(answer)["id"])
        self.cloud.job(self.cloud.admin.keys, answer)
        if template_id is not None:
            with self.cloud.sessions() as session:
                session.execute(
                    sa.update(models.Volume)
                    .where(models.Volume.uuid == uuid)
                    .values(template_id=template_id, volume_type="ROOT")
                )
                session.commit()
        return uuid

    def create(self, uuid: str, sessions: sessionmaker[Session] | None = None) -> models.Volume:
        made = sessions or self.cloud.sessions
        with made() as session:
            volume = session.scalars(
                sa.select(models.Volume).where(models.Volume.uuid == uuid)
            ).one()
            pool = session.get_one(models.StoragePool, self.pool_id)
            done = volume_create.create_on_pool(
                session,
                made,
                registry.Services(agents=self.cloud.agents),
                _Job(session),
                volume,
                pool,
            )
            session.commit()
            session.refresh(done)
            session.expunge(done)
            return done

    def template(self, size: int) -> int:
        """A qcow2 template of virtual ``size`` with some data, Ready on an NFS image store."""
        export = self.common / "_nfs" / "nfs1" / "export"
        with self.cloud.sessions() as session:
            store = models.ImageStore(
                name="nfs1",
                protocol="nfs",
                url="nfs://nfs1/export",
                image_provider_name="NFS",
                data_center_id=session.scalars(sa.select(infra.DataCenter.id)).one(),
                scope="ZONE",
                role="Image",
            )
            os_id = session.scalars(sa.select(guest_os.GuestOs.id).limit(1)).one()
            template = templates.VmTemplate(
                name="tiny",
                unique_name="tiny",
                format="QCOW2",
                account_id=2,
                guest_os_id=os_id,
                hypervisor_type="Simulator",
                size=size,
                state="Active",
            )
            session.add_all([store, template])
            session.flush()
            path = f"template/tmpl/2/{template.id}/{template.uuid}.qcow2"
            session.add(
                templates.TemplateStoreRef(
                    store_id=store.id,
                    template_id=template.id,
                    install_path=path,
                    size=size,
                    physical_size=0,
                    state="Ready",
                    download_state="DOWNLOADED",
                    created=base.utcnow(),
                )
            )
            session.commit()
            file = export / path
            file.parent.mkdir(parents=True, exist_ok=True)
            self.qemu.create(file, "qcow2", size)
            return template.id


@pytest.fixture
def world(cloud: Cloud, qemu_img: qemu.QemuImg) -> _World:
    return _World(cloud, qemu_img)


def test_an_empty_volume_is_a_qcow2_file_at_its_path(world: _World) -> None:
    uuid = world.volume()
    made = world.create(uuid)
    assert made.state == "Ready" and made.pool_id == world.pool_id
    assert made.path == uuid and made.format == "QCOW2" and made.size == GIB
    info = world.qemu.info(world.pool_dir / uuid, "qcow2")
    assert info.virtual_size == GIB and info.backing_file is None
    assert world.allocated() == GIB
    listed = world.cloud.ok(world.cloud.admin.keys, "listVolumes", id=uuid)["volume"][0]
    assert listed["state"] == "Ready" and listed["storage"] == "pool1"
    assert listed["path"] == uuid

    assert world.cloud.ok(world.cloud.admin.keys, "deleteVolume", id=uuid) == {"success": True}
    assert not (world.pool_dir / uuid).exists()
    assert world.allocated() == 0


def test_a_pool_without_room_leaves_the_volume_allocated(world: _World) -> None:
    with world.cloud.sessions() as session:
        session.execute(
            sa.update(capacity.HostCapacity)
            .where(capacity.HostCapacity.capacity_type == 3)
            .values(total_capacity=GIB // 2)
        )
        session.commit()
    uuid = world.volume()
    with pytest.raises(errors.ResourceUnavailable, match="Insufficient allocated capacity"):
        world.create(uuid)
    with world.cloud.sessions() as session:
        row = session.scalars(sa.select(models.Volume)).one()
        assert (row.state, row.pool_id) == ("Allocated", None)
    assert world.allocated() == 0


def test_an_agent_failure_puts_the_volume_back_on_no_pool(world: _World) -> None:
    uuid = world.volume()
    shutil.rmtree(world.pool_dir)  # the pool's mount is gone from the host
    with pytest.raises(errors.ResourceUnavailable, match="is not there on this host"):
        world.create(uuid)
    with world.cloud.sessions() as session:
        row = session.scalars(sa.select(models.Volume)).one()
        assert (row.state, row.pool_id, row.path) == ("Allocated", None, None)
    assert world.allocated() == 0
    assert not (world.pool_dir / uuid).exists()


def test_a_thin_volume_from_a_template_is_a_linked_clone(world: _World) -> None:
    template = world.template(100 * MIB)
    uuid = world.volume(template)
    made = world.create(uuid)
    assert made.state == "Ready" and made.path == uuid
    with world.cloud.sessions() as session:
        ref = session.scalars(sa.select(templates.TemplateSpoolRef)).one()
        assert (ref.state, ref.template_size) == ("Ready", 100 * MIB)
        copy = ref.install_path
    assert copy is not None
    info = world.qemu.info(world.pool_dir / uuid, "qcow2")
    assert info.backing_file is not None and info.backing_file.endswith(copy)
    assert world.allocated() == GIB + 100 * MIB


def test_ten_concurrent_creations_from_one_template_make_one_copy(world: _World) -> None:
    template = world.template(100 * MIB)
    uuids = [world.volume(template) for _ in range(10)]
    failures: list[BaseException] = []

    def create(uuid: str) -> None:
        try:
            world.create(uuid)
        except BaseException as exc:  # the assertion below reports it
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(uuid,)) for uuid in uuids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    with world.cloud.sessions() as session:
        states = session.scalars(sa.select(models.Volume.state)).all()
        assert states == ["Ready"] * 10
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(templates.TemplateSpoolRef)) == 1
        )
        copies = session.scalars(
            sa.select(events.Event.description).where(
                events.Event.type == "TEMPLATE.SPOOL.STATE",
                events.Event.description.contains("-[CreateOnlyRequested]-> Creating"),
            )
        ).all()
    assert len(copies) == 1, copies
    assert world.allocated() == 10 * GIB + 100 * MIB
    assert len([file for file in world.pool_dir.iterdir() if file.is_file()]) >= 11


def test_a_ready_volume_grows_on_its_pool_and_a_qcow2_never_shrinks(world: _World) -> None:
    admin = world.cloud.admin.keys
    two = world.cloud.ok(admin, "createDiskOffering", name="two", displaytext="two", disksize="2")
    uuid = world.volume()
    world.create(uuid)
    grown = world.cloud.job(
        admin,
        world.cloud.call(admin, "resizeVolume", id=uuid, diskofferingid=two["diskoffering"]["id"]),
    )
    assert grown["jobstatus"] == 1, grown
    volume = grown["jobresult"]["volume"]
    assert (volume["state"], volume["size"], volume["diskofferingname"]) == (
        "Ready",
        2 * GIB,
        "two",
    )
    assert world.qemu.info(world.pool_dir / uuid, "qcow2").virtual_size == 2 * GIB
    assert world.allocated() == 2 * GIB
    answer = world.cloud.call(
        admin, "resizeVolume", id=uuid, diskofferingid=world.offering, shrinkok="true"
    )
    assert answer.status == 431 and "qcow2" in str(content(answer)["errortext"])
    answer = world.cloud.call(admin, "resizeVolume", id=uuid, diskofferingid=world.offering)
    assert answer.status == 431 and "shrinkok" in str(content(answer)["errortext"])
    assert world.allocated() == 2 * GIB


def test_a_failed_template_copy_leaves_nothing_and_the_next_request_copies(
    world: _World,
) -> None:
    template = world.template(100 * MIB)
    with world.cloud.sessions() as session:
        ref = session.scalars(sa.select(templates.TemplateStoreRef)).one()
        path = ref.install_path
    assert path is not None
    source = world.common / "_nfs" / "nfs1" / "export" / path
    hidden = source.with_name("hidden")
    source.rename(hidden)  # the image store lost the file
    uuid = world.volume(template)
    with pytest.raises(errors.ResourceUnavailable, match="Failed to copy template"):
        world.create(uuid)
    with world.cloud.sessions() as session:
        spool = session.scalars(sa.select(templates.TemplateSpoolRef)).one()
        volume = session.scalars(sa.select(models.Volume)).one()
        assert (spool.state, spool.install_path) == ("Allocated", None)
        assert (volume.state, volume.pool_id) == ("Allocated", None)
    assert world.allocated() == 0
    assert [file.name for file in world.pool_dir.iterdir() if not file.name.startswith(".")] == []
    hidden.rename(source)
    assert world.create(uuid).state == "Ready"
    assert world.allocated() == GIB + 100 * MIB


class _DeleteDuringCreate(_Job):
    """A checkpoint that lets deleteStoragePool run while the creation's first transaction
    (the claim, the volume Creating on the pool) is still open, then commits it."""

    def __init__(self, session: Session, world: _World, pool_uuid: str) -> None:
        super().__init__(session)
        self.world = world
        self.pool_uuid = pool_uuid
        self.answer: object = None
        self.thread: threading.Thread | None = None

    def checkpoint(self) -> None:
        if self.thread is None:

            def delete() -> None:
                self.answer = self.world.cloud.call(
                    self.world.cloud.admin.keys, "deleteStoragePool", id=self.pool_uuid
                )

            self.thread = threading.Thread(target=delete)
            self.thread.start()
            self.thread.join(1.0)  # without the pool lock, the delete is done by now
        super().checkpoint()


def test_a_pool_is_not_deleted_under_a_volume_being_created_on_it(world: _World) -> None:
    uuid = world.volume()
    with world.cloud.sessions() as session:
        volume = session.scalars(sa.select(models.Volume).where(models.Volume.uuid == uuid)).one()
        pool = session.get_one(models.StoragePool, world.pool_id)
        job = _DeleteDuringCreate(session, world, str(pool.uuid))
        volume_create.create_on_pool(
            session,
            world.cloud.sessions,
            registry.Services(agents=world.cloud.agents),
            job,
            volume,
            pool,
        )
        session.commit()
    assert job.thread is not None
    job.thread.join(60)
    answer = job.answer
    assert answer is not None and answer.status == 536, answer  # type: ignore[attr-defined]
    assert "volume(s) are still on it" in str(content(answer)["errortext"])  # type: ignore[arg-type]
    with world.cloud.sessions() as session:
        pool_row = session.get_one(models.StoragePool, world.pool_id)
        volume = session.scalars(sa.select(models.Volume).where(models.Volume.uuid == uuid)).one()
        assert pool_row.removed is None
        assert (volume.state, volume.pool_id) == ("Ready", world.pool_id)


class _Died(Exception):
    """The job's process dies: nothing of the run after this point happens."""


class _DiesAfterClaim(_Job):
    def checkpoint(self) -> None:
        super().checkpoint()
        raise _Died


def test_the_reaper_gives_a_dead_creation_s_claim_back_and_the_volume_is_on_no_pool(
    world: _World,
) -> None:
    uuid = world.volume()
    with world.cloud.sessions() as session:
        volume = session.scalars(sa.select(models.Volume).where(models.Volume.uuid == uuid)).one()
        pool = session.get_one(models.StoragePool, world.pool_id)
        with pytest.raises(_Died):
            volume_create.create_on_pool(
                session,
                world.cloud.sessions,
                registry.Services(agents=world.cloud.agents),
                _DiesAfterClaim(session),
                volume,
                pool,
            )
    assert world.allocated() == GIB  # claimed by the run that died
    swept = reaper.sweep(world.cloud.sessions, max_attempts=3)
    assert any(uuid in label for label in swept.recovered), swept
    with world.cloud.sessions() as session:
        found = session.scalars(sa.select(models.Volume).where(models.Volume.uuid == uuid)).one()
        assert (found.state, found.pool_id, found.path) == ("Allocated", None, None)
    assert world.allocated() == 0
    world.create(uuid)  # and it can be created again
    assert world.allocated() == GIB


def test_the_reaper_gives_a_dead_template_copy_s_claim_back(world: _World) -> None:
    template_id = world.template(100 * MIB)
    with world.cloud.sessions() as session:
        session.add(
            templates.TemplateSpoolRef(
                template_id=template_id,
                pool_id=world.pool_id,
                state="Creating",
                download_state="NOT_DOWNLOADED",
                template_size=100 * MIB,
                created=base.utcnow(),
            )
        )
        session.execute(
            sa.update(capacity.HostCapacity)
            .where(capacity.HostCapacity.host_id == world.pool_id)
            .values(used_capacity=100 * MIB)
        )
        session.commit()
    reaper.sweep(world.cloud.sessions, max_attempts=3)
    with world.cloud.sessions() as session:
        ref = session.scalars(sa.select(templates.TemplateSpoolRef)).one()
        assert (ref.state, ref.template_size) == ("Allocated", 0)
    assert world.allocated() == 0
    uuid = world.volume(template_id)
    world.create(uuid)  # the next request copies it
    assert world.allocated() == GIB + 100 * MIB
