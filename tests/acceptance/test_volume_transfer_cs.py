"""uploadVolume and extractVolume with ``cs`` against a real server process (its in-process
simulated host runs the real agent storage), as Ansible's cs_volume sends them.

A qcow2 made with qemu-img and served by a local HTTP server is uploaded (cs waits on the job)
and lands Uploaded on the NFS stand-in store; a hostile one (a backing file) ends in a 530
job error naming the reason, nothing on the store. A volume placed on a pool (updateVolume's
admin repair, until attach exists) is extracted, and a plain httpx GET of the answer's URL
returns exactly the file's bytes; FTP_UPLOAD is a 431.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cs import CloudStack, CloudStackApiException

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from tests.acceptance.conftest import Server, simulator_cluster
from tests.security import ingest_server

pytestmark = [pytest.mark.acceptance, pytest.mark.usefixtures("qemu_img")]

MIB = 1024**2
STORE_URL = "nfs://nfs-sec.test/export/sec"
POOL_URL = "nfs://nfs-pri.test/export/pri"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ingest_server.Server]:
    wrapper = qemu_img.QemuImg()
    good, hostile = tmp_path / "good.qcow2", tmp_path / "hostile.qcow2"
    wrapper.create(good, "qcow2", 8 * MIB)
    wrapper.create(hostile, "qcow2", MIB, backing=Path("/etc/hostname"), backing_fmt="raw")
    with ingest_server.serving() as running:
        running.routes["/good.qcow2"] = ingest_server.Route(good.read_bytes())
        running.routes["/hostile.qcow2"] = ingest_server.Route(hostile.read_bytes())
        body = good.read_bytes()
        running.routes["/slow.qcow2"] = ingest_server.Route(
            body, stall_after=len(body) // 2, stall=4.0
        )
        yield running


def _export(server: Server, url: str) -> Path:
    root = server.data_dir / "simulator" / simulator.EXPORTS_DIRECTORY
    return mounts.StandInMounter(root).directory(mounts.parse_url(url))


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_upload_and_extract_with_cs(server: Server, served: ingest_server.Server) -> None:
    api = CloudStack(
        endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )
    zone, pod, cluster = simulator_cluster(api)
    api.addHost(
        zoneid=zone, podid=pod, clusterid=cluster, hypervisor="Simulator",
        url="http://sim-1?cpunumber=4&cpuspeed=2000&memory=8589934592",
        username="root", password="password",
    )  # fmt: skip
    api.addImageStore(provider="NFS", name="sec", url=STORE_URL, zoneid=zone)
    api.updateConfiguration(name="secstorage.allowed.internal.sites", value="127.0.0.0/8")
    api.updateConfiguration(name="extract.url.base", value=server.base)
    offering = api.createDiskOffering(name="Custom", displaytext="Custom", customized=True)
    offering_id = offering["diskoffering"]["id"]
    store = _export(server, STORE_URL)

    uploaded = api.uploadVolume(
        name="up-1", zoneid=zone, format="QCOW2", url=f"{served.base}/good.qcow2",
        diskofferingid=offering_id,
    )["volume"]  # fmt: skip
    assert (uploaded["state"], uploaded["status"], uploaded["size"]) == (
        "Uploaded",
        "Upload Complete",
        8 * MIB,
    )
    [stored] = _files(store)
    assert stored.startswith("volumes/")
    with pytest.raises(CloudStackApiException) as refused:
        api.uploadVolume(
            name="bad", zoneid=zone, format="QCOW2", url=f"{served.base}/hostile.qcow2",
            diskofferingid=offering_id,
        )  # fmt: skip
    assert "backing file" in str(refused.value.error)
    assert _files(store) == [stored]
    [failed] = api.listVolumes(name="bad", fetch_list=True)
    assert failed["state"] == "UploadError"
    assert api.deleteVolume(id=failed["id"]) == {"success": True}
    assert api.deleteVolume(id=uploaded["id"]) == {"success": True}
    assert _files(store) == []

    _progress_is_shown(server, zone, offering_id, f"{served.base}/slow.qcow2")

    pool = api.createStoragePool(
        name="pri", url=POOL_URL, zoneid=zone, podid=pod, clusterid=cluster
    )["storagepool"]
    volume = api.createVolume(name="data", diskofferingid=offering_id, size=1, zoneid=zone)
    uuid = volume["volume"]["id"]
    disk = _export(server, POOL_URL) / uuid
    qemu_img.QemuImg().create(disk, "qcow2", 1024**3)
    api.updateVolume(id=uuid, storageid=pool["id"], path=uuid, state="Creating")
    assert api.updateVolume(id=uuid, state="Ready")["volume"]["state"] == "Ready"
    with pytest.raises(CloudStackApiException) as ftp:
        api.extractVolume(id=uuid, zoneid=zone, mode="FTP_UPLOAD")
    assert ftp.value.error["errorcode"] == 431
    extracted = api.extractVolume(id=uuid, zoneid=zone, mode="HTTP_DOWNLOAD")["volume"]
    assert extracted["extractMode"] == "HTTP_DOWNLOAD"
    assert extracted["url"].startswith(f"{server.base}/client/extract/")
    got = httpx.get(extracted["url"], timeout=30)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(disk.read_bytes()).hexdigest()


def _progress_is_shown(server: Server, zone: str, offering: str, url: str) -> None:
    """A download that stalls half-way is listed Uploading with "<n>% Uploaded", then Uploaded."""
    api = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
    job = api.uploadVolume(
        name="slow", zoneid=zone, format="QCOW2", url=url, diskofferingid=offering
    )
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        [listed] = api.listVolumes(name="slow")["volume"]
        seen.add((listed["state"], listed.get("status", "")))
        if listed["state"] == "Uploaded":
            break
        time.sleep(0.2)
    assert ("Uploaded", "Upload Complete") in seen, seen
    shown = [status for state, status in seen if state == "Uploading"]
    assert any(status.endswith("% Uploaded") and status != "0% Uploaded" for status in shown), seen
    done = api.queryAsyncJobResult(jobid=job["jobid"])
    assert done["jobstatus"] == 1 and done["jobprocstatus"] > 0, done
    api.deleteVolume(id=listed["id"])
