"""Image stores and templates end to end with ``cs`` against a real server process, on every
backend: the issue's acceptance sentence.

With cs: add a pool and an image store, register a qcow2 template made with qemu-img and served
by a local HTTP server, watch its download progress until Ready, see the file on the store,
copy it to a second store (another zone's S3 store, on moto's server), delete it and see the
files go. Also: the store listed without its secret, a metadata-service URL refused with a
431, and deleteImageStore once no template is left.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cs import CloudStack, CloudStackApiException

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from tests import s3_server
from tests.acceptance.conftest import Server
from tests.security import ingest_server

pytestmark = [pytest.mark.acceptance, pytest.mark.usefixtures("qemu_img")]

MIB = 1024**2
STORE_URL = "nfs://nfs-a.test/export/sec"


@pytest.fixture
def image(tmp_path: Path) -> bytes:
    """A qcow2 made with qemu-img, with data in it (so it takes a while to serve)."""
    raw, made = tmp_path / "data.raw", tmp_path / "tiny.qcow2"
    raw.write_bytes(bytes(range(256)) * (12 * MIB // 256))
    qemu_img.QemuImg().convert(raw, "raw", made, "qcow2")
    return made.read_bytes()


@pytest.fixture
def served(image: bytes) -> Iterator[ingest_server.Server]:
    with ingest_server.serving() as running:
        running.routes["/tiny.qcow2"] = ingest_server.Route(
            image, stall_after=len(image) // 6, stall=0.7, pieces=5
        )
        yield running


@pytest.fixture
def s3() -> Iterator[s3_server.Endpoint]:
    endpoint = s3_server.start()
    yield endpoint
    endpoint.stop()


def _zone_with_host(api: CloudStack, name: str, net: str, host: str) -> tuple[str, str, str]:
    zone = api.createZone(
        name=name, dns1="8.8.8.8", internaldns1="10.0.0.2", networktype="Advanced"
    )
    zone_id = zone["zone"]["id"]
    pod = api.createPod(
        name=f"{name}-p", zoneid=zone_id, gateway=f"{net}.1", netmask="255.255.255.0",
        startip=f"{net}.10", endip=f"{net}.250",
    )["pod"]  # fmt: skip
    cluster = api.addCluster(
        clustername=f"{name}-c", clustertype="CloudManaged", hypervisor="Simulator",
        podid=pod["id"], zoneid=zone_id,
    )["cluster"][0]  # fmt: skip
    api.addHost(
        zoneid=zone_id, podid=pod["id"], clusterid=cluster["id"], hypervisor="Simulator",
        url=f"http://{host}", username="root", password="password",
    )  # fmt: skip
    return str(zone_id), str(pod["id"]), str(cluster["id"])


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _watch(api: CloudStack, template_id: str, zone: str) -> list[str]:
    """listTemplates until the template is ready in ``zone``; every status seen."""
    seen: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        [item] = api.listTemplates(templatefilter="self", id=template_id, zoneid=zone)["template"]
        if not seen or seen[-1] != item["status"]:
            seen.append(item["status"])
        if item["isready"]:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"not ready after 90 s: {seen}")


def test_the_acceptance_sentence_with_cs(
    server_on: Server, served: ingest_server.Server, image: bytes, s3: s3_server.Endpoint
) -> None:
    api = CloudStack(
        endpoint=server_on.url, key=server_on.api_key, secret=server_on.secret_key,
        fetch_result=True,
    )  # fmt: skip
    zone, pod, cluster = _zone_with_host(api, "z1", "10.1.0", "sim-1")
    pool = api.createStoragePool(
        name="primary-1", url="nfs://nfs.test/export/primary-1", zoneid=zone, podid=pod,
        clusterid=cluster, provider="DefaultPrimary", scope="cluster",
    )["storagepool"]  # fmt: skip
    assert pool["state"] == "Up"
    store = api.addImageStore(provider="NFS", name="sec", url=STORE_URL, zoneid=zone)
    api.updateConfiguration(name="secstorage.allowed.internal.sites", value="127.0.0.0/8")
    os_type = api.listOsTypes(fetch_list=True)[0]["id"]
    fields = {"zoneid": zone, "format": "QCOW2", "hypervisor": "Simulator", "ostypeid": os_type}
    with pytest.raises(CloudStackApiException) as refused:
        api.registerTemplate(name="meta", url="http://169.254.169.254/x.qcow2", **fields)
    assert refused.value.error["errorcode"] == 431

    digest = hashlib.sha256(image).hexdigest()
    registered = api.registerTemplate(
        name="tiny", displaytext="tiny", url=f"{served.base}/tiny.qcow2",
        checksum=f"{{SHA-256}}{digest}", **fields,
    )["template"][0]  # fmt: skip
    assert (registered["isready"], registered["status"]) == (False, "Download in progress")
    seen = _watch(api, registered["id"], zone)
    progress = [s for s in seen if s.endswith("% Downloaded") and s != "0% Downloaded"]
    assert progress, seen
    assert seen[-1] == "Download Complete"

    exports = server_on.data_dir / "simulator" / simulator.EXPORTS_DIRECTORY
    on_store = mounts.StandInMounter(exports).directory(mounts.parse_url(STORE_URL))
    [file] = [f for f in _files(on_store) if f.suffix == ".qcow2"]
    assert file.relative_to(on_store).parts[:2] == ("template", "tmpl")
    assert hashlib.sha256(file.read_bytes()).hexdigest() == digest
    assert (file.parent / "template.properties").is_file()

    zone2, _pod2, _cluster2 = _zone_with_host(api, "z2", "10.2.0", "sim-2")
    bucket = s3.bucket()
    secret = s3_server.SECRET_KEY
    api.addImageStoreS3(
        accesskey=s3_server.ACCESS_KEY, secretkey=secret, endpoint=s3.end_point, bucket=bucket,
        usehttps="false", zoneid=zone2,
    )  # fmt: skip
    listed = api.listImageStores(fetch_list=True)
    assert {s["providername"] for s in listed} == {"NFS", "S3"} and secret not in str(listed)
    copied = api.copyTemplate(id=registered["id"], sourcezoneid=zone, destzoneid=zone2)
    assert (copied["template"]["zoneid"], copied["template"]["isready"]) == (zone2, True)
    objects = s3.client().list_objects_v2(Bucket=bucket)["Contents"]
    [key] = [str(item["Key"]) for item in objects]
    assert key.startswith("template/tmpl/") and key.endswith(".qcow2")
    body = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == digest
    both = api.listTemplates(templatefilter="self", id=registered["id"], fetch_list=True)
    assert sorted((t["zoneid"], t["isready"]) for t in both) == sorted(
        [(zone, True), (zone2, True)]
    )

    assert api.deleteTemplate(id=registered["id"])["success"] in (True, "true")
    assert _files(on_store) == []
    assert s3.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert api.listTemplates(templatefilter="all", fetch_list=True) == []
    api.deleteImageStore(id=store["imagestore"]["id"])
