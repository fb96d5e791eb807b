"""DownloadCommand on a simulated host (issue 8, items 2 and 6): a template from a loopback HTTP
server onto each image store (NFS stand-in, S3 on moto), through the agent's safe ingest. The
file (or object) lands at CloudStack's install path with the checksum and sizes answered; an
image with a backing file, a wrong checksum or a loopback URL without the allowance is refused
and leaves nothing on the store.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.protocol import messages
from cirrostack.protocol import storage as st
from tests import s3_server
from tests.security import ingest_server

MIB = 1024**2
LOOPBACK = ("127.0.0.0/8",)
NFS_URL = "nfs://nfs-d.test/export/images"

#: The qemu_img fixture skips without qemu-img on a developer machine and fails under CI.
pytestmark = pytest.mark.usefixtures("qemu_img")


@pytest.fixture(scope="module")
def s3() -> Iterator[s3_server.Endpoint]:
    endpoint = s3_server.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def images(tmp_path: Path) -> dict[str, bytes]:
    wrapper = qemu_img.QemuImg()
    good = tmp_path / "good.qcow2"
    wrapper.create(good, "qcow2", 8 * MIB)
    hostile = tmp_path / "hostile.qcow2"
    wrapper.create(hostile, "qcow2", MIB, backing=Path("/etc/hostname"), backing_fmt="raw")
    return {"/good.qcow2": good.read_bytes(), "/hostile.qcow2": hostile.read_bytes()}


@pytest.fixture
def server(images: dict[str, bytes]) -> Iterator[ingest_server.Server]:
    with ingest_server.serving() as running:
        for path, body in images.items():
            running.routes[path] = ingest_server.Route(body)
        yield running


@pytest.fixture(params=["NFS", "S3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[st.NfsTO | st.S3TO, object]:
    """The store, and a function listing every file or key on it."""
    if request.param == "NFS":
        to = st.NfsTO(uuid=str(uuid.uuid4()), url=NFS_URL)
        served = mounts.StandInMounter(tmp_path / simulator.EXPORTS_DIRECTORY).directory(
            mounts.parse_url(NFS_URL)
        )

        def listing() -> list[str]:
            return sorted(str(p.relative_to(served)) for p in served.rglob("*") if p.is_file())

        return to, listing
    endpoint: s3_server.Endpoint = request.getfixturevalue("s3")
    bucket = endpoint.bucket()
    client = endpoint.client()

    def keys() -> list[str]:
        found = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return sorted(item["Key"] for item in found)

    return endpoint.store_to(bucket), keys


@pytest.fixture
def host(tmp_path: Path) -> simulator.SimulatedHost:
    return simulator.Fleet(tmp_path).boot(simulator.Spec("g-dl", "sim-dl", "10.0.0.8"))


def _command(store_to: object, url: str, checksum: str | None = None, **more: object) -> object:
    template = st.TemplateObjectTO(
        uuid=str(uuid.uuid4()),
        id=205,
        name="205-2-abc",
        format=st.ImageFormat.QCOW2,
        image_data_store=store_to,  # type: ignore[arg-type]
        account_id=2,
        checksum=checksum,
    )
    return st.DownloadCommand(template=template, url=url, **more)  # type: ignore[arg-type]


def test_a_template_is_downloaded_verified_and_laid_out(
    host: simulator.SimulatedHost, server: ingest_server.Server, store: tuple, images: dict
) -> None:
    to, listing = store
    sha = hashlib.sha256(images["/good.qcow2"]).hexdigest()
    command = _command(
        to, f"{server.base}/good.qcow2", f"{{SHA-256}}{sha}", allowed_internal=LOOPBACK
    )
    seen: list[messages.Progress] = []
    answer = host.handle(command, seen.append)  # type: ignore[arg-type]
    assert answer.result, answer.details
    assert isinstance(answer, st.DownloadAnswer)
    assert answer.checksum == f"{{SHA-256}}{sha}"
    made = answer.template
    assert made.size == 8 * MIB and made.physical_size == len(images["/good.qcow2"])
    assert made.path.startswith("template/tmpl/2/205/")
    if isinstance(to, st.S3TO):
        assert made.path.endswith("/205-2-abc/good.qcow2")
        assert listing() == [made.path]
    else:
        assert made.path.endswith(".qcow2")
        assert listing() == sorted([made.path, "template/tmpl/2/205/template.properties"])
    assert {"downloading", "verifying"} <= {p.phase for p in seen}


@pytest.mark.parametrize(
    ("path", "checksum", "allowed", "reason"),
    [
        ("/hostile.qcow2", None, LOOPBACK, "backing"),
        ("/good.qcow2", "{MD5}" + "0" * 32, LOOPBACK, "did not match"),
        ("/good.qcow2", None, (), "127.0.0.1"),
        ("/missing.qcow2", None, LOOPBACK, "404"),
    ],
)
def test_a_refused_download_leaves_nothing(
    host: simulator.SimulatedHost,
    server: ingest_server.Server,
    store: tuple,
    path: str,
    checksum: str | None,
    allowed: tuple[str, ...],
    reason: str,
) -> None:
    to, listing = store
    command = _command(to, f"{server.base}{path}", checksum, allowed_internal=allowed)
    answer = host.handle(command)  # type: ignore[arg-type]
    assert not answer.result and reason in answer.details, answer
    assert listing() == []
    staging = host.storage_site().staging
    assert not staging.exists() or list(staging.iterdir()) == []
