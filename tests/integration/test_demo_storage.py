"""The demo cloud's storage on every backend: two pools connected by the demo's simulated hosts
(real directories), an NFS image store and the built-in template made with the real qemu-img,
made once, not made again after a delete, and usable: an empty volume and a linked clone of the
template land on the pools as real files.

Without qemu-img on the PATH (really absent: the PATH is narrowed to a directory without it)
the store is made, the report says why the pools (the simulated hosts run their storage
commands with qemu-img too) and the template are missing, and the next start with qemu-img
makes them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack import demo, demo_storage
from cirrostack.agent import qemu_img as qemu
from cirrostack.agent.storage import sandbox
from cirrostack.api import dispatch, registry
from cirrostack.db.models import storage as models
from cirrostack.db.models import templates
from cirrostack.infrastructure import agents
from cirrostack.storage import volume_create
from tests import job_seam
from tests.cloud import Cloud

MIB = 1024**2


_Job = job_seam.TestJob


class _Demo:
    """A cloud whose simulated hosts keep their files under ``workdir`` (as ``serve --demo``
    does under the data directory), seeded with the demo zone."""

    def __init__(self, cloud: Cloud, workdir: Path) -> None:
        self.cloud = cloud
        self.workdir = workdir
        self.fleet = agents.Agents.in_process(workdir=workdir)
        cloud.agents = self.fleet
        cloud.dispatcher = dispatch.Dispatcher(
            cloud.registry, cloud.sessions, services=registry.Services(agents=self.fleet)
        )
        with cloud.sessions() as session:
            demo.ensure(session, self.fleet)
            session.commit()

    @property
    def exports(self) -> Path:
        return self.workdir / sandbox.EXPORTS_DIRECTORY

    def seed(self) -> demo_storage.Report:
        return demo_storage.ensure(self.cloud.sessions, self.fleet, self.exports)

    def ok(self, command: str, **named: str) -> Any:
        return self.cloud.ok(self.cloud.admin.keys, command, **named)

    def pools(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.ok("listStoragePools").get("storagepool", [])}

    def featured(self) -> list[dict[str, Any]]:
        listed = self.ok("listTemplates", templatefilter="featured")
        return list(listed.get("template", []))


@pytest.fixture
def made(cloud: Cloud, tmp_path: Path) -> _Demo:
    return _Demo(cloud, tmp_path / "simulator")


def test_the_demo_storage_is_made_once_and_volumes_land_on_it(
    made: _Demo, qemu_img: qemu.QemuImg
) -> None:
    report = made.seed()
    assert report.missing == []
    assert len(report.made) == 4, report.made

    pools = made.pools()
    assert set(pools) == {"demo-primary-cluster", "demo-primary-zone"}
    cluster, zone = pools["demo-primary-cluster"], pools["demo-primary-zone"]
    assert (cluster["state"], cluster["scope"], cluster["type"]) == (
        "Up",
        "CLUSTER",
        "SharedMountPoint",
    )
    assert (zone["state"], zone["scope"], zone["type"]) == ("Up", "ZONE", "NetworkFilesystem")
    # No capacitybytes was given: the size is what the hosts reported of their directories.
    assert cluster["disksizetotal"] > 0 and zone["disksizetotal"] > 0
    shared = made.workdir / sandbox.SHARED_DIRECTORY / "demo" / "primary-cluster"
    assert shared.is_dir()
    [store] = made.ok("listImageStores")["imagestore"]
    assert (store["name"], store["url"]) == ("demo-secondary", demo_storage.STORE[1])

    [template] = made.featured()
    assert template["name"] == demo_storage.TEMPLATE and template["isready"] is True
    assert (template["templatetype"], template["ispublic"], template["crossZones"]) == (
        "BUILTIN",
        True,
        True,
    )
    assert template["size"] == demo_storage.TEMPLATE_SIZE and template["format"] == "QCOW2"
    file = _template_file(made, template["id"])
    assert file.parent.joinpath("template.properties").is_file()
    info = qemu_img.info(file, "qcow2")
    assert (info.virtual_size, info.backing_file) == (demo_storage.TEMPLATE_SIZE, None)
    md5 = hashlib.md5(file.read_bytes()).hexdigest()
    assert template["checksum"] == f"{{MD5}}{md5}"

    again = made.seed()
    assert (again.made, again.missing) == ([], [])
    assert len(made.pools()) == 2 and len(made.featured()) == 1

    on_zone_pool = _an_empty_volume_and_a_clone_of_the_template(made, cluster, zone, qemu_img)

    made.ok("deleteVolume", id=on_zone_pool)
    made.ok("deleteStoragePool", id=zone["id"])
    assert made.seed().made == []  # deleted by the user: not made again
    assert set(made.pools()) == {"demo-primary-cluster"}


def _template_file(made: _Demo, uuid: str) -> Path:
    with made.cloud.sessions() as session:
        template = session.scalars(
            sa.select(templates.VmTemplate).where(templates.VmTemplate.uuid == uuid)
        ).one()
        ref = session.scalars(
            sa.select(templates.TemplateStoreRef).where(
                templates.TemplateStoreRef.template_id == template.id
            )
        ).one()
        assert ref.state == "Ready" and ref.download_state == "DOWNLOADED"
        assert ref.install_path == f"template/tmpl/1/{template.id}/{template.id}.qcow2"
        assert ref.physical_size > 0 and ref.size == demo_storage.TEMPLATE_SIZE
        path = ref.install_path
    return made.exports / "nfs.demo" / "export" / "demo-secondary" / path


def _an_empty_volume_and_a_clone_of_the_template(
    made: _Demo, cluster: dict[str, Any], zone: dict[str, Any], qemu_img: qemu.QemuImg
) -> str:
    """createVolume on the zone-wide pool (storageid) is Ready there; a root volume from the
    template is a linked clone on the cluster pool's copy of it. The first volume's id."""
    [offering] = made.ok("listDiskOfferings", name="Custom")["diskoffering"]
    [zone_row] = made.ok("listZones")["zone"]
    answer = made.cloud.call(
        made.cloud.admin.keys,
        "createVolume",
        name="on-zone-pool",
        zoneid=zone_row["id"],
        diskofferingid=offering["id"],
        size="1",
        storageid=zone["id"],
    )
    volume = made.cloud.job(made.cloud.admin.keys, answer)["jobresult"]["volume"]
    assert (volume["state"], volume["storage"]) == ("Ready", "demo-primary-zone")
    served = made.exports / "nfs.demo" / "export" / "demo-primary" / volume["path"]
    assert qemu_img.info(served, "qcow2").virtual_size == 1024**3

    answer = made.cloud.call(
        made.cloud.admin.keys,
        "createVolume",
        name="root-1",
        zoneid=zone_row["id"],
        diskofferingid=offering["id"],
        size="1",
    )
    uuid = made.cloud.job(made.cloud.admin.keys, answer)["jobresult"]["volume"]["id"]
    with made.cloud.sessions() as session:
        template_id = session.scalars(
            sa.select(templates.VmTemplate.id).where(
                templates.VmTemplate.unique_name == demo_storage.TEMPLATE_UNIQUE_NAME
            )
        ).one()
        row = session.scalars(sa.select(models.Volume).where(models.Volume.uuid == uuid)).one()
        row.template_id, row.volume_type = template_id, "ROOT"
        session.commit()
    with made.cloud.sessions() as session:
        row = session.scalars(sa.select(models.Volume).where(models.Volume.uuid == uuid)).one()
        pool = session.scalars(
            sa.select(models.StoragePool).where(models.StoragePool.uuid == cluster["id"])
        ).one()
        done = volume_create.create_on_pool(
            session,
            made.cloud.sessions,
            registry.Services(agents=made.fleet),
            _Job(session),
            row,
            pool,
        )
        session.commit()
        path = done.path
    directory = made.workdir / sandbox.SHARED_DIRECTORY / "demo" / "primary-cluster"
    clone = qemu_img.info(directory / str(path), "qcow2")
    assert clone.backing_file is not None and clone.virtual_size == 1024**3
    return str(volume["id"])


def test_without_qemu_img_the_demo_says_why_and_makes_the_template_later(
    made: _Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qemu_img: qemu.QemuImg
) -> None:
    empty = tmp_path / "no-qemu-img"
    empty.mkdir()
    path = os.environ.get("PATH", "")
    monkeypatch.setenv("PATH", str(empty))
    assert qemu.find() is None
    report = made.seed()
    # The simulated hosts run their storage commands with qemu-img too: no pool connects.
    assert report.made == ["image store demo-secondary"]
    assert len(report.missing) == 3, report.missing
    assert all("qemu-img is not installed" in why for why in report.missing), report.missing
    assert "built-in template" in report.missing[-1]
    assert made.pools() == {} and made.featured() == []
    with made.cloud.sessions() as session:  # nothing of the template is recorded
        assert session.scalars(sa.select(templates.TemplateStoreRef)).all() == []

    monkeypatch.setenv("PATH", path)
    later = made.seed()
    assert (later.missing, len(later.made)) == ([], 3)
    assert set(made.pools()) == {"demo-primary-cluster", "demo-primary-zone"}
    [template] = made.featured()
    assert template["isready"] is True


def test_create_volume_on_a_named_pool_is_refused_with_the_pools_verdict(
    made: _Demo, qemu_img: qemu.QemuImg
) -> None:
    """createVolume ``storageid``: root admins only; a pool the allocator would refuse (its
    tags, its state) is refused at the request with that reason, and nothing is recorded."""
    assert made.seed().missing == []
    pools = made.pools()
    cluster = pools["demo-primary-cluster"]
    [zone_row] = made.ok("listZones")["zone"]
    tagged = made.ok(
        "createDiskOffering", name="ssd-1", displaytext="ssd", disksize="1", tags="ssd"
    )["diskoffering"]
    asked = {"zoneid": zone_row["id"], "diskofferingid": tagged["id"], "storageid": cluster["id"]}
    admin = made.cloud.admin.keys

    refused = made.cloud.call(admin, "createVolume", name="tagged", **asked)
    assert refused.status == 431, refused.body
    text = refused.body["createvolumeresponse"]["errortext"]
    assert "demo-primary-cluster is not suitable" in text and "tags" in text, text

    made.ok("updateStoragePool", id=cluster["id"], tags="ssd", enabled="false")
    refused = made.cloud.call(admin, "createVolume", name="disabled", **asked)
    assert refused.status == 431 and "state" in str(refused.body), refused.body

    unknown = dict(asked, storageid="00000000-0000-4000-8000-000000000000")
    assert made.cloud.call(admin, "createVolume", name="unknown", **unknown).status == 431

    user = made.cloud.member("pool-picker", made.cloud.root_id)
    [custom] = made.ok("listDiskOfferings", name="Custom")["diskoffering"]
    mine = dict(
        asked, diskofferingid=custom["id"], size="1", storageid=pools["demo-primary-zone"]["id"]
    )
    assert made.cloud.call(user.keys, "createVolume", name="mine", **mine).status == 531
    assert made.ok("listVolumes", listall="true").get("volume") is None


def test_a_copy_a_start_left_unfinished_or_the_reaper_failed_is_made_again(
    made: _Demo, qemu_img: qemu.QemuImg
) -> None:
    """A start that stopped between recording the copy and its file leaves it Creating; the
    reaper (no job holds it) may fail it. The next start makes it either way."""
    assert made.seed().missing == []
    with made.cloud.sessions() as session:
        ref = session.scalars(sa.select(templates.TemplateStoreRef)).one()
        ref.state, ref.install_path = "Failed", None  # as the reaper leaves a stranded copy
        session.commit()
    assert made.seed().made == [f"built-in template {demo_storage.TEMPLATE!r}"]
    [template] = made.featured()
    assert template["isready"] is True
    with made.cloud.sessions() as session:
        copies = session.scalars(sa.select(templates.TemplateStoreRef)).all()
        assert sorted((c.state, c.destroyed) for c in copies) == [
            ("Destroyed", True),
            ("Ready", False),
        ]


def test_two_servers_seeding_one_database_make_each_part_once(
    made: _Demo, qemu_img: qemu.QemuImg
) -> None:
    """Two ``serve --demo`` starts at once on one database: the zone's and the store's row
    locks order them, so there are two pools, one store and one template copy."""
    barrier = threading.Barrier(2)
    reports: list[demo_storage.Report] = []

    def start() -> None:
        barrier.wait()
        reports.append(made.seed())

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [r.missing for r in reports] == [[], []]
    assert sorted(len(r.made) for r in reports) in ([0, 4], [1, 3], [2, 2]), reports
    assert sum(len(r.made) for r in reports) == 4
    assert set(made.pools()) == {"demo-primary-cluster", "demo-primary-zone"}
    assert len(made.ok("listImageStores")["imagestore"]) == 1
    with made.cloud.sessions() as session:
        [copy] = session.scalars(sa.select(templates.TemplateStoreRef)).all()
        assert copy.state == "Ready"
