"""uploadVolume and extractVolume end to end on every backend: the dispatcher (jobs inline), a
simulated host running the real agent storage (safe ingest, qemu-img) in the fleet's
directory, an NFS stand-in image store, and a loopback HTTP server the test starts.

Upload: Uploaded with the size and format qemu-img found, the file at CloudStack's path, the
listVolumes status CloudStack shows, secondary storage counted; a bad checksum, a redirect, a
loopback URL without secstorage.allowed.internal.sites and a qcow2 with a backing file are
refused with nothing left on the store, the volume UploadError with the reason and deletable.
Extract: the link serves exactly the volume's bytes over HTTP (a real uvicorn server) until it
expires, then the cleanup deletes the copy; another account's volume is answered as missing.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from cirrostack.accounts import limits
from cirrostack.accounts.resources import ResourceType
from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.api import app, dispatch, registry
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import storage as models
from cirrostack.db.models import templates as template_models
from cirrostack.infrastructure import agents
from cirrostack.jobs import queue, reaper
from cirrostack.states import bindings
from cirrostack.storage import extract_cleanup
from tests import s3_server
from tests.cloud import content, signed_request
from tests.conftest import Database
from tests.integration.test_infra_commands import Infra
from tests.security import ingest_server

MIB = 1024**2
NFS_URL = "nfs://nfs-v.test/export/sec"
POOL_URL = "nfs://nfs-p.test/export/primary"

pytestmark = pytest.mark.usefixtures("qemu_img")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ingest_server.Server]:
    wrapper = qemu_img.QemuImg()
    good, hostile, raw = tmp_path / "good.qcow2", tmp_path / "hostile.qcow2", tmp_path / "d.raw"
    wrapper.create(good, "qcow2", 4 * MIB)
    wrapper.create(hostile, "qcow2", MIB, backing=Path("/etc/hostname"), backing_fmt="raw")
    raw.write_bytes(bytes(range(256)) * 4096)  # 1 MiB of data
    with ingest_server.serving() as running:
        running.routes["/good.qcow2"] = ingest_server.Route(good.read_bytes())
        running.routes["/hostile.qcow2"] = ingest_server.Route(hostile.read_bytes())
        running.routes["/posing.qcow2"] = ingest_server.Route(raw.read_bytes())
        running.routes["/moved.qcow2"] = ingest_server.Route(
            status=302, headers={"Location": f"{running.base}/good.qcow2"}
        )
        yield running


class World(Infra):
    def __init__(self, database: Database, workdir: Path) -> None:
        super().__init__(database)
        cloud = self.cloud
        cloud.agents = agents.Agents.in_process(workdir=workdir)
        cloud.dispatcher = dispatch.Dispatcher(
            cloud.registry, cloud.sessions, services=registry.Services(agents=cloud.agents)
        )
        zone, _, self.cluster_row, _ = self.stack()
        self.zone_id = zone["id"]
        self.ok("addImageStore", provider="NFS", url=NFS_URL, zoneid=self.zone_id)
        self.allow_loopback(True)
        self.offering = self.ok(
            "createDiskOffering", name="custom", displaytext="custom", customized="true"
        )["diskoffering"]["id"]
        self.exports = mounts.StandInMounter(workdir / simulator.EXPORTS_DIRECTORY).directory(
            mounts.parse_url(NFS_URL)
        )
        self.domain = self.cloud.domain("D")
        self.user = self.cloud.member("u", self.domain)

    def allow_loopback(self, allowed: bool) -> None:
        value = "127.0.0.0/8" if allowed else "192.0.2.0/24"  # a blank value is ignored
        self.ok("updateConfiguration", name="secstorage.allowed.internal.sites", value=value)

    def upload(self, url: str, keys: Any = None, **more: str) -> dict[str, Any]:
        """The finished uploadVolume job (as the user unless ``keys`` says otherwise)."""
        keys = keys or self.user.keys
        answer = self.cloud.call(
            keys, "uploadVolume", name="up", url=url, zoneid=self.zone_id, format="QCOW2",
            diskofferingid=self.offering, **more,
        )  # fmt: skip
        assert answer.status == 200, answer.body
        return self.cloud.job(keys, answer)

    def files(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.exports)) for p in self.exports.rglob("*") if p.is_file()
        )

    def volume_row(self, uuid: str) -> models.Volume:
        with self.database.sessions() as session:
            return session.scalars(sa.select(models.Volume).where(models.Volume.uuid == uuid)).one()

    def refs(self) -> list[template_models.VolumeStoreRef]:
        with self.database.sessions() as session:
            ref = template_models.VolumeStoreRef
            return list(session.scalars(sa.select(ref).order_by(ref.id)))

    def count(self, kind: ResourceType) -> int:
        with self.database.sessions() as session:
            account = session.scalars(
                sa.select(account_models.Account).where(account_models.Account.account_name == "u")
            ).one()
            return limits.count_of(session, kind, account_id=account.id)


@pytest.fixture
def world(database: Database, tmp_path: Path) -> World:
    return World(database, tmp_path / "agents")


def test_an_uploaded_volume_is_on_the_store_and_deleted_with_its_file(
    world: World, served: Any
) -> None:
    job = world.upload(f"{served.base}/good.qcow2")
    assert job["jobstatus"] == 1, job
    assert job["jobinstancetype"] == "Volume"
    volume = job["jobresult"]["volume"]
    assert (volume["state"], volume["status"], volume["size"]) == (
        "Uploaded",
        "Upload Complete",
        4 * MIB,
    )
    assert volume["account"] == "u" and "storageid" not in volume
    [ref] = world.refs()
    assert (ref.state, ref.download_state, ref.download_pct) == ("Ready", "DOWNLOADED", 100)
    assert ref.install_path is not None
    assert ref.install_path.startswith(f"volumes/{world.volume_row(volume['id']).account_id}/")
    assert ref.checksum and ref.checksum.startswith("{MD5}")
    assert world.files() == [ref.install_path]
    info = qemu_img.QemuImg().info(world.exports / ref.install_path, "qcow2")
    assert info.virtual_size == 4 * MIB
    assert world.volume_row(volume["id"]).format == "QCOW2"
    assert world.count(ResourceType.VOLUME) == 1
    assert world.count(ResourceType.SECONDARY_STORAGE) == ref.physical_size > 0
    assert world.count(ResourceType.PRIMARY_STORAGE) == 0
    listed = world.cloud.ok(world.user.keys, "listVolumes", id=volume["id"])["volume"][0]
    assert (listed["state"], listed["status"]) == ("Uploaded", "Upload Complete")

    assert world.cloud.ok(world.user.keys, "deleteVolume", id=volume["id"]) == {"success": True}
    assert world.files() == []
    [ref] = world.refs()
    assert (ref.state, ref.destroyed) == ("Destroyed", True)
    assert world.volume_row(volume["id"]).state == "Expunged"
    assert world.count(ResourceType.VOLUME) == 0
    assert world.count(ResourceType.SECONDARY_STORAGE) == 0


@pytest.mark.parametrize(
    ("path", "more", "loopback", "reason"),
    [
        ("good.qcow2", {"checksum": "{SHA-256}" + "0" * 64}, True, "did not match"),
        ("moved.qcow2", {}, True, "redirect"),
        ("hostile.qcow2", {}, True, "backing file"),
        ("posing.qcow2", {}, True, "not qcow2"),
    ],
)
def test_a_refused_upload_leaves_nothing_and_is_deletable(
    world: World, served: Any, path: str, more: dict[str, str], loopback: bool, reason: str
) -> None:
    world.allow_loopback(loopback)
    job = world.upload(f"{served.base}/{path}", **more)
    assert job["jobstatus"] == 2, job
    assert reason in job["jobresult"]["errortext"], job
    assert world.files() == []
    [ref] = world.refs()
    assert (ref.state, ref.download_state) == ("Failed", "DOWNLOAD_ERROR")
    assert ref.error_str and reason in ref.error_str
    uuid = job["jobinstanceid"]
    assert world.volume_row(uuid).state == "Allocated"
    listed = world.cloud.ok(world.user.keys, "listVolumes", id=uuid)["volume"][0]
    assert listed["state"] == "UploadError" and reason in listed["status"]
    assert world.count(ResourceType.SECONDARY_STORAGE) == 0
    resized = world.cloud.call(world.user.keys, "resizeVolume", id=uuid, size="2")
    assert resized.status == 431 and "upload that failed" in str(resized.body)
    assert world.cloud.ok(world.user.keys, "deleteVolume", id=uuid) == {"success": True}
    assert world.cloud.ok(world.user.keys, "listVolumes") == {}
    assert world.count(ResourceType.VOLUME) == 0


def test_a_loopback_url_is_refused_at_the_request_without_the_setting(
    world: World, served: Any
) -> None:
    world.allow_loopback(False)
    answer = world.cloud.call(
        world.user.keys, "uploadVolume", name="up", url=f"{served.base}/good.qcow2",
        zoneid=world.zone_id, format="QCOW2", diskofferingid=world.offering,
    )  # fmt: skip
    assert answer.status == 431, answer.body
    assert "internal address" in content(answer)["errortext"]
    assert served.seen == []
    assert world.refs() == []
    with world.database.sessions() as session:
        assert session.scalars(sa.select(models.Volume)).all() == []


def test_bad_requests_are_431_and_write_nothing(world: World, served: Any) -> None:
    base = {"name": "up", "zoneid": world.zone_id, "diskofferingid": world.offering}
    cases = [
        ({"url": f"{served.base}/good.qcow2", "format": "VHD"}, "not supported"),
        ({"url": f"{served.base}/good.raw", "format": "QCOW2"}, "invalid for the format"),
        ({"url": "file:///etc/passwd.qcow2", "format": "QCOW2"}, "scheme"),
        ({"url": f"{served.base}/good.qcow2", "format": "QCOW2", "checksum": "{MD5}12"}, "hex"),
        (
            {"url": f"{served.base}/good.qcow2", "format": "QCOW2", "projectid": str(uuid.uuid4())},
            "projectid",
        ),
    ]
    for named, reason in cases:
        answer = world.cloud.call(world.user.keys, "uploadVolume", **(base | named))
        assert answer.status == 431, answer.body
        assert reason in content(answer)["errortext"], (named, content(answer))
    fixed = world.ok("createDiskOffering", name="five", displaytext="five", disksize="5")
    answer = world.cloud.call(
        world.user.keys, "uploadVolume", **(base | {"url": f"{served.base}/good.qcow2",
        "format": "QCOW2", "diskofferingid": fixed["diskoffering"]["id"]}),
    )  # fmt: skip
    assert answer.status == 431 and "custom" in content(answer)["errortext"]
    assert world.refs() == []


# --- extract ---------------------------------------------------------------------------------


class _Server:
    """The API (and the extract links) served by uvicorn on a loopback port, in a thread."""

    def __init__(self, world: World) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        asgi = app.create_app(world.cloud.dispatcher)
        config = uvicorn.Config(asgi, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{self.port}"
        finally:
            self.server.should_exit = True
            self.thread.join(10)


def _ready_volume(world: World, data: int = MIB) -> tuple[str, Path]:
    """A volume placed on a pool by hand (attach comes with VMs): Ready, its qcow2 file
    holding ``data`` bytes of data."""
    cluster = world.cluster_row
    pool = world.ok(
        "createStoragePool", name="ps1", url=POOL_URL, zoneid=cluster["zoneid"],
        podid=cluster["podid"], clusterid=cluster["id"],
    )["storagepool"]  # fmt: skip
    answer = world.cloud.call(
        world.user.keys, "createVolume", name="data", diskofferingid=world.offering,
        zoneid=world.zone_id, size="1",
    )  # fmt: skip
    uuid = str(content(answer)["id"])
    world.cloud.job(world.user.keys, answer)
    pool_dir = mounts.StandInMounter(
        world.cloud.agents.fleet.common() / simulator.EXPORTS_DIRECTORY  # type: ignore[attr-defined]
    ).directory(mounts.parse_url(POOL_URL))
    raw = pool_dir / "source.raw"
    raw.write_bytes(hashlib.sha256(b"seed").digest() * (data // 32))
    wrapper = qemu_img.QemuImg()
    wrapper.convert(raw, "raw", pool_dir / uuid, "qcow2")
    wrapper.resize(pool_dir / uuid, "qcow2", 1024**3)  # the volume's 1 GB
    raw.unlink()
    with world.database.sessions() as session:
        row = session.scalars(
            sa.select(models.StoragePool).where(models.StoragePool.uuid == pool["id"])
        ).one()
        session.execute(
            sa.update(models.Volume)
            .where(models.Volume.uuid == uuid)
            .values(state="Ready", pool_id=row.id, path=uuid, format="QCOW2", size=1024**3)
        )
        session.commit()
    return uuid, pool_dir / uuid


def test_an_extracted_volume_downloads_byte_for_byte_until_it_expires(world: World) -> None:
    uuid, file = _ready_volume(world)
    server = _Server(world)
    with server.running() as base:
        world.ok("updateConfiguration", name="extract.url.base", value=base)
        answer = world.cloud.call(
            world.user.keys, "extractVolume", id=uuid, zoneid=world.zone_id, mode="HTTP_DOWNLOAD"
        )
        job = world.cloud.job(world.user.keys, answer)
        assert job["jobstatus"] == 1, job
        extracted = job["jobresult"]["volume"]
        assert (extracted["id"], extracted["extractMode"]) == (uuid, "HTTP_DOWNLOAD")
        url = extracted["url"]
        assert url.startswith(f"{base}/client/extract/") and url.endswith(f"/{uuid}.qcow2")
        [ref] = world.refs()
        token = url.split("/")[-2]
        assert ref.download_url == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(ref.download_url)
        got = httpx.get(url, timeout=30)
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/octet-stream"
        assert hashlib.sha256(got.content).digest() == hashlib.sha256(file.read_bytes()).digest()
        assert httpx.get(url.replace(token, token[:-2] + "xx"), timeout=5).status_code == 404
        assert httpx.post(url, timeout=5).status_code == 405

        world.ok("updateConfiguration", name="extract.url.expiration.interval", value="1")
        time.sleep(1.2)
        assert httpx.get(url, timeout=5).status_code == 404
    assert extract_cleanup.sweep(world.database.sessions, world.cloud.agents) == 1
    [ref] = world.refs()
    assert (ref.state, ref.destroyed) == ("Destroyed", True)
    assert not [f for f in world.files() if f.startswith("volumes/")]


def test_extract_refusals(world: World) -> None:
    uuid, _ = _ready_volume(world)
    stranger = world.cloud.member("s", world.domain)
    base = {"id": uuid, "zoneid": world.zone_id}
    answer = world.cloud.call(stranger.keys, "extractVolume", mode="HTTP_DOWNLOAD", **base)
    assert answer.status == 431 and f"Unable to find volume with id {uuid}" in str(answer.body)
    answer = world.cloud.call(world.user.keys, "extractVolume", mode="FTP_UPLOAD", **base)
    assert answer.status == 431 and "FTP_UPLOAD is not supported" in str(answer.body)
    world.ok("updateConfiguration", name="disable.extraction", value="true")
    answer = world.cloud.call(world.user.keys, "extractVolume", mode="HTTP_DOWNLOAD", **base)
    assert answer.status == 531, answer.body
    assert world.refs() == []


def test_deleting_a_volume_removes_its_extract_copies_and_a_store_keeps_its_volumes(
    world: World, served: Any
) -> None:
    uuid, file = _ready_volume(world)
    job = world.cloud.job(
        world.user.keys,
        world.cloud.call(
            world.user.keys, "extractVolume", id=uuid, zoneid=world.zone_id, mode="HTTP_DOWNLOAD"
        ),
    )
    assert job["jobstatus"] == 1, job
    [copy] = [f for f in world.files() if f.startswith("volumes/")]
    assert world.cloud.ok(world.user.keys, "deleteVolume", id=uuid) == {"success": True}
    assert copy not in world.files() and not file.exists()
    [ref] = world.refs()
    assert (ref.state, ref.destroyed) == ("Destroyed", True)

    uploaded = world.upload(f"{served.base}/good.qcow2")["jobresult"]["volume"]
    [store] = world.ok("listImageStores")["imagestore"]
    code, text = world.error("deleteImageStore", id=store["id"])
    assert code == 536 and "volume copies remain" in text, (code, text)
    world.cloud.ok(world.user.keys, "deleteVolume", id=uploaded["id"])
    assert world.ok("deleteImageStore", id=store["id"]) == {"success": True}


@pytest.fixture
def s3() -> Iterator[s3_server.Endpoint]:
    endpoint = s3_server.start()
    yield endpoint
    endpoint.stop()


def test_upload_and_extract_through_an_s3_store(
    sqlite_database: Database, tmp_path: Path, served: Any, s3: s3_server.Endpoint
) -> None:
    world = World(sqlite_database, tmp_path / "agents")
    [nfs] = world.ok("listImageStores")["imagestore"]
    world.ok("deleteImageStore", id=nfs["id"])
    bucket = s3.bucket()
    world.ok(
        "addImageStoreS3", accesskey=s3_server.ACCESS_KEY, secretkey=s3_server.SECRET_KEY,
        endpoint=s3.end_point, bucket=bucket, usehttps="false", zoneid=world.zone_id,
    )  # fmt: skip
    uploaded = world.upload(f"{served.base}/good.qcow2")["jobresult"]["volume"]
    assert uploaded["state"] == "Uploaded"
    [ref] = world.refs()
    keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == [ref.install_path]

    uuid, file = _ready_volume(world, data=6 * MIB)  # more than one 4 MiB read
    server = _Server(world)
    with server.running() as base:
        world.ok("updateConfiguration", name="extract.url.base", value=base)
        job = world.cloud.job(
            world.user.keys,
            world.cloud.call(
                world.user.keys, "extractVolume", id=uuid, zoneid=world.zone_id,
                mode="HTTP_DOWNLOAD",
            ),
        )  # fmt: skip
        assert job["jobstatus"] == 1, job
        got = httpx.get(job["jobresult"]["volume"]["url"], timeout=60)
    assert got.status_code == 200 and len(got.content) == file.stat().st_size > 4 * MIB
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(file.read_bytes()).digest()
    world.cloud.ok(world.user.keys, "deleteVolume", id=uploaded["id"])
    world.cloud.ok(world.user.keys, "deleteVolume", id=uuid)
    assert s3.client().list_objects_v2(Bucket=bucket).get("Contents", []) == []


def test_an_upload_whose_job_died_is_recovered_and_deletable(world: World, served: Any) -> None:
    """The job is queued but its worker dies before the download: the reaper moves the volume
    UploadOp → Allocated, it is listed UploadError, and it is deleted."""
    cloud = world.cloud
    queued = dispatch.Dispatcher(
        cloud.registry, cloud.sessions, services=registry.Services(agents=cloud.agents),
        handoff=lambda: None,
    )  # fmt: skip
    answer = queued.handle(
        signed_request(
            world.user.keys, "uploadVolume",
            [("name", "up"), ("url", f"{served.base}/good.qcow2"), ("zoneid", world.zone_id),
             ("format", "QCOW2"), ("diskofferingid", world.offering)],
        )
    )  # fmt: skip
    assert answer.status == 200, answer.body
    with world.database.sessions() as session:
        [run] = queue.claim(session, 99, datetime.timedelta(seconds=60))
        session.commit()
    with world.database.sessions() as session:
        volume = session.scalars(sa.select(models.Volume)).one()
    assert volume.state == "UploadOp"
    assert reaper.sweep(world.database.sessions, max_attempts=3).recovered == []  # held
    with world.database.sessions() as session:
        queue.finish(session, run, queue.Status.FAILED, 530, {"errorcode": 530})
        session.commit()
    swept = reaper.sweep(world.database.sessions, max_attempts=3)
    assert bindings.VOLUME.label(volume) in swept.recovered
    listed = cloud.ok(world.user.keys, "listVolumes", id=volume.uuid)["volume"][0]
    assert listed["state"] == "UploadError", listed
    assert served.seen == []
    assert cloud.ok(world.user.keys, "deleteVolume", id=volume.uuid) == {"success": True}
    assert world.count(ResourceType.VOLUME) == 0
    [ref] = world.refs()
    assert ref.destroyed


def test_the_volume_limit_is_reserved_at_the_request(world: World, served: Any) -> None:
    world.ok("updateResourceLimit", resourcetype="2", max="1", account="u", domainid=world.domain)
    assert world.upload(f"{served.base}/good.qcow2")["jobstatus"] == 1
    answer = world.cloud.call(
        world.user.keys, "uploadVolume", name="two", url=f"{served.base}/good.qcow2",
        zoneid=world.zone_id, format="QCOW2", diskofferingid=world.offering,
    )  # fmt: skip
    assert answer.status == 535 and "volume" in content(answer)["errortext"], answer.body
    assert len(world.refs()) == 1 and world.count(ResourceType.VOLUME) == 1


def test_an_upload_over_the_secondary_storage_limit_is_removed(world: World, served: Any) -> None:
    world.ok("updateResourceLimit", resourcetype="11", max="0", account="u", domainid=world.domain)
    job = world.upload(f"{served.base}/good.qcow2")
    assert job["jobstatus"] == 2 and "secondary_storage" in job["jobresult"]["errortext"], job
    assert world.files() == []
    [ref] = world.refs()
    assert ref.state == "Failed" and "secondary_storage" in (ref.error_str or "")
    assert world.count(ResourceType.SECONDARY_STORAGE) == 0
    assert world.cloud.ok(world.user.keys, "deleteVolume", id=job["jobinstanceid"])
