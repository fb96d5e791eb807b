"""A template's copies after its download, on every backend, on real files: deleteTemplate's
job removes every file before its row (and a failure leaves the row saying why, until deleting
again finishes it), refuses while a volume uses the template unless forced, copyTemplate makes
a Ready copy on another zone's store (NFS, or S3 on moto's server), and prepareTemplate puts
the template on the zone's primary pool once (``template_spool_ref`` Ready), which a delete
takes away with the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.db.models import infrastructure as infra_models
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from cirrostack.jobs import queue
from tests import s3_server
from tests.cloud import content
from tests.conftest import Database
from tests.integration.test_template_download import MIB, Cloud, images, served
from tests.security import ingest_server

__all__ = ["images", "served"]  # the fixtures this module shares

POOL_URL = "nfs://pri.test/export/p1"
SECOND_NFS = "nfs://nfs-2.test/export/sec2"

pytestmark = pytest.mark.usefixtures("qemu_img")


class Copies(Cloud):
    def __init__(self, database: Database, workdir: Path) -> None:
        super().__init__(database, workdir)
        self.workdir = workdir
        zone = self.zone("z2")
        pod = self.pod(zone["id"], "p2", "192.168.2")
        self.host(self.cluster(zone["id"], pod["id"], "c2"), url="http://sim-2")
        self.zone2 = zone["id"]

    def export(self, url: str) -> Path:
        stand_in = mounts.StandInMounter(self.workdir / simulator.EXPORTS_DIRECTORY)
        return stand_in.directory(mounts.parse_url(url))

    def ready(self, url: str) -> dict[str, Any]:
        template = self.register(url)
        assert self.listed(template)["isready"] is True
        return template

    def refs(self) -> list[models.TemplateStoreRef]:
        with self.database.sessions() as session:
            rows = session.scalars(
                sa.select(models.TemplateStoreRef).order_by(models.TemplateStoreRef.id)
            )
            return list(rows)

    def job(self, command: str, **named: str) -> dict[str, Any]:
        answer = self.cloud.call(self.admin, command, **named)
        return self.cloud.job(self.admin, answer)

    def host_status(self, status: str) -> None:
        with self.database.sessions() as session:
            session.execute(sa.update(infra_models.Host).values(status=status))
            session.commit()


@pytest.fixture
def copies(database: Database, tmp_path: Path) -> Copies:
    return Copies(database, tmp_path / "agents")


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_delete_removes_the_files_then_the_rows(copies: Copies, served: Any) -> None:
    template = copies.ready(f"{served.base}/good.qcow2")
    [ref] = copies.refs()
    assert ref.install_path in copies.files()
    done = copies.job("deleteTemplate", id=template["id"])
    assert done["jobstatus"] == 1, done
    assert copies.files() == []  # the file, template.properties and the directories
    [ref] = copies.refs()
    assert (ref.state, ref.destroyed, ref.download_state) == ("Destroyed", True, "ABANDONED")
    assert copies.ok("listTemplates", templatefilter="all").get("count", 0) == 0
    with copies.database.sessions() as session:
        assert session.scalars(sa.select(models.VmTemplate.removed)).one() is not None


def test_a_delete_the_agent_did_not_confirm_says_why_and_deleting_again_finishes(
    copies: Copies, served: Any
) -> None:
    template = copies.ready(f"{served.base}/good.qcow2")
    copies.host_status("Disconnected")
    failed = copies.job("deleteTemplate", id=template["id"])
    assert failed["jobstatus"] == 2 and "no Up host" in failed["jobresult"]["errortext"]
    [ref] = copies.refs()
    assert (ref.state, ref.destroyed) == ("Destroying", False)
    assert ref.error_str and "no Up host" in ref.error_str
    assert ref.install_path in copies.files()
    copies.host_status("Up")
    assert copies.job("deleteTemplate", id=template["id"])["jobstatus"] == 1
    assert copies.files() == [] and copies.refs()[0].state == "Destroyed"


def test_delete_is_refused_while_a_volume_uses_the_template_unless_forced(
    copies: Copies, served: Any
) -> None:
    template = copies.ready(f"{served.base}/good.qcow2")
    offering = copies.ok("createDiskOffering", name="d", displaytext="d", disksize="1")
    answer = copies.cloud.call(
        copies.admin,
        "createVolume",
        name="v",
        diskofferingid=offering["diskoffering"]["id"],
        zoneid=copies.zone_id,
    )
    volume = content(answer)["id"]
    with copies.database.sessions() as session:
        template_id = session.scalars(sa.select(models.VmTemplate.id)).one()
        session.execute(
            sa.update(storage_models.Volume)
            .where(storage_models.Volume.uuid == volume)
            .values(template_id=template_id)
        )
        session.commit()
    status, text = copies.error("deleteTemplate", id=template["id"])
    assert status == 431 and volume in text and "are using it" in text
    assert copies.job("deleteTemplate", id=template["id"], forced="true")["jobstatus"] == 1
    assert copies.files() == []


@pytest.fixture
def s3() -> Iterator[s3_server.Endpoint]:
    endpoint = s3_server.start()
    yield endpoint
    endpoint.stop()


@pytest.mark.parametrize("second", ["NFS", "S3"])
def test_copy_to_a_second_zones_store(
    copies: Copies, served: Any, second: str, request: pytest.FixtureRequest
) -> None:
    template = copies.ready(f"{served.base}/good.qcow2")
    objects = None
    if second == "NFS":
        copies.ok("addImageStore", provider="NFS", url=SECOND_NFS, zoneid=copies.zone2)
    else:
        endpoint: s3_server.Endpoint = request.getfixturevalue("s3")
        bucket = endpoint.bucket()
        copies.ok(
            "addImageStoreS3", accesskey=s3_server.ACCESS_KEY, secretkey=s3_server.SECRET_KEY,
            endpoint=endpoint.end_point, bucket=bucket, usehttps="false", zoneid=copies.zone2,
        )  # fmt: skip

        def objects() -> list[str]:
            listed = endpoint.client().list_objects_v2(Bucket=bucket).get("Contents", [])
            return sorted(str(item["Key"]) for item in listed)

    done = copies.job("copyTemplate", id=template["id"], destzoneid=copies.zone2)
    assert done["jobstatus"] == 1, done
    copied = done["jobresult"]["template"]
    assert (copied["zoneid"], copied["isready"], copied["status"]) == (
        copies.zone2,
        True,
        "Download Complete",
    )
    source, made = copies.refs()
    assert (made.state, made.is_copy, made.size) == ("Ready", True, source.size)
    if objects is None:
        assert made.install_path in _files(copies.export(SECOND_NFS))
    else:
        assert made.install_path in objects()
        assert made.install_path and made.install_path.startswith(
            f"template/tmpl/2/{made.template_id}/"
        )
    in_two = copies.ok("listTemplates", templatefilter="all", zoneid=copies.zone2)["template"]
    assert [(t["id"], t["isready"]) for t in in_two] == [(template["id"], True)]
    again = copies.job("copyTemplate", id=template["id"], destzoneid=copies.zone2)
    assert again["jobstatus"] == 1 and len(copies.refs()) == 2  # nothing more to copy
    status, text = copies.error("copyTemplate", id=template["id"], destzoneid=copies.zone_id)
    assert status == 431 and "different" in text
    # Deleting the template removes both zones' copies.
    assert copies.job("deleteTemplate", id=template["id"])["jobstatus"] == 1
    assert copies.files() == []
    if objects is None:
        assert _files(copies.export(SECOND_NFS)) == []
    else:
        assert objects() == []


def test_delete_in_one_zone_keeps_the_others(copies: Copies, served: Any) -> None:
    template = copies.ready(f"{served.base}/good.qcow2")
    copies.ok("addImageStore", provider="NFS", url=SECOND_NFS, zoneid=copies.zone2)
    assert copies.job("copyTemplate", id=template["id"], destzoneid=copies.zone2)["jobstatus"] == 1
    done = copies.job("deleteTemplate", id=template["id"], zoneid=copies.zone2)
    assert done["jobstatus"] == 1, done
    assert _files(copies.export(SECOND_NFS)) == [] and copies.files() != []
    listed = copies.ok("listTemplates", templatefilter="all")["template"]
    assert [(t["zoneid"], t["isready"]) for t in listed] == [(copies.zone_id, True)]
    with copies.database.sessions() as session:
        assert session.scalars(sa.select(models.VmTemplate.removed)).one() is None


def test_a_copy_that_fails_ends_failed_and_can_be_asked_again(copies: Copies, served: Any) -> None:
    template = copies.ready(f"{served.base}/good.qcow2")
    copies.ok("addImageStore", provider="NFS", url=SECOND_NFS, zoneid=copies.zone2)
    with copies.database.sessions() as session:
        zone = infra_models.DataCenter
        second = session.scalars(sa.select(zone.id).where(zone.uuid == copies.zone2)).one()
        session.execute(
            sa.update(infra_models.Host)
            .where(infra_models.Host.data_center_id == second)
            .values(status="Disconnected")
        )
        session.commit()
    failed = copies.job("copyTemplate", id=template["id"], destzoneid=copies.zone2)
    assert failed["jobstatus"] == 2 and "no Up host" in failed["jobresult"]["errortext"]
    assert [ref.state for ref in copies.refs()] == ["Ready", "Failed"]
    copies.host_status("Up")
    assert copies.job("copyTemplate", id=template["id"], destzoneid=copies.zone2)["jobstatus"] == 1
    states = [(ref.state, ref.destroyed) for ref in copies.refs()]
    assert states == [("Ready", False), ("Destroyed", True), ("Ready", False)]


def test_prepare_puts_the_template_on_the_pool_once(copies: Copies, served: Any) -> None:
    template = copies.ready(f"{served.base}/good.qcow2")
    [cluster] = copies.ok("listClusters", zoneid=copies.zone_id)["cluster"]
    pool = copies.ok(
        "createStoragePool", name="p1", url=POOL_URL, zoneid=copies.zone_id,
        podid=cluster["podid"], clusterid=cluster["id"],
    )["storagepool"]  # fmt: skip
    prepared = copies.ok("prepareTemplate", templateid=template["id"], zoneid=copies.zone_id)
    assert prepared["template"][0]["id"] == template["id"]
    with copies.database.sessions() as session:
        [spool] = session.scalars(sa.select(models.TemplateSpoolRef)).all()
        jobs = session.scalars(
            sa.select(queue.Job.job_status).where(queue.Job.job_cmd == "copyTemplateToPool")
        ).all()
    assert (spool.state, spool.install_path) == ("Ready", template["id"])
    assert jobs == [queue.Status.SUCCEEDED]
    pool_dir = copies.export(POOL_URL)
    assert template["id"] in _files(pool_dir)
    assert (pool_dir / template["id"]).stat().st_size > 0
    copies.ok("prepareTemplate", templateid=template["id"], zoneid=copies.zone_id)
    with copies.database.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(queue.Job).where(
            queue.Job.job_cmd == "copyTemplateToPool"
        )) == 1  # already Ready: nothing queued  # fmt: skip
    assert copies.job("deleteTemplate", id=template["id"])["jobstatus"] == 1
    assert template["id"] not in _files(pool_dir)
    with copies.database.sessions() as session:
        assert session.scalars(sa.select(models.TemplateSpoolRef)).all() == []
    assert pool["id"]


def test_prepare_refuses_a_template_not_ready_in_the_zone(copies: Copies, served: Any) -> None:
    served.routes["/missing.qcow2"] = ingest_server.Route(b"", status=404)
    template = copies.register(f"{served.base}/missing.qcow2")
    status, text = copies.error("prepareTemplate", templateid=template["id"], zoneid=copies.zone_id)
    assert status == 431 and "not ready" in text
    assert MIB


def test_a_public_template_downloads_to_every_store_of_the_zone(
    copies: Copies, served: Any
) -> None:
    other = "nfs://nfs-b.test/export/more"
    copies.ok("addImageStore", provider="NFS", url=other, zoneid=copies.zone_id)
    template = copies.register(f"{served.base}/good.qcow2", ispublic="true")
    first, second = copies.refs()
    assert (first.state, second.state) == ("Ready", "Ready")
    assert first.store_id != second.store_id
    assert first.install_path in copies.files()
    assert second.install_path in _files(copies.export(other))
    with copies.database.sessions() as session:
        jobs = session.scalars(
            sa.select(queue.Job.job_status).where(queue.Job.job_cmd == "downloadTemplate")
        ).all()
    assert jobs == [queue.Status.SUCCEEDED, queue.Status.SUCCEEDED]
    assert copies.listed(template)["isready"] is True


def test_a_template_only_on_an_s3_store_reaches_a_pool(
    copies: Copies, served: Any, s3: s3_server.Endpoint
) -> None:
    """Zone 2 has only an S3 image store: prepareTemplate there copies the object to the pool
    (the agent reads it with the store's credentials), and the copy on the pool is whole."""
    template = copies.ready(f"{served.base}/good.qcow2")
    copies.ok(
        "addImageStoreS3", accesskey=s3_server.ACCESS_KEY, secretkey=s3_server.SECRET_KEY,
        endpoint=s3.end_point, bucket=s3.bucket(), usehttps="false", zoneid=copies.zone2,
    )  # fmt: skip
    assert copies.job("copyTemplate", id=template["id"], destzoneid=copies.zone2)["jobstatus"] == 1
    [cluster] = copies.ok("listClusters", zoneid=copies.zone2)["cluster"]
    copies.ok(
        "createStoragePool", name="p2", url="nfs://pri.test/export/p2", zoneid=copies.zone2,
        podid=cluster["podid"], clusterid=cluster["id"],
    )  # fmt: skip
    copies.ok("prepareTemplate", templateid=template["id"], zoneid=copies.zone2)
    with copies.database.sessions() as session:
        [spool] = session.scalars(sa.select(models.TemplateSpoolRef)).all()
        outcome = session.scalars(
            sa.select(queue.Job.job_status).where(queue.Job.job_cmd == "copyTemplateToPool")
        ).all()
    assert outcome == [queue.Status.SUCCEEDED], outcome
    assert (spool.state, spool.install_path) == ("Ready", template["id"])
    on_pool = copies.export("nfs://pri.test/export/p2") / template["id"]
    [source] = [ref for ref in copies.refs() if not ref.is_copy]
    nfs_file = next(
        p
        for p in Path(copies.workdir).rglob("*.qcow2")
        if source.install_path and str(p).endswith(source.install_path)
    )
    assert on_pool.read_bytes() == nfs_file.read_bytes()
