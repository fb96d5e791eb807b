"""A template download is never stranded by a killed server.

A real server downloads a template served slowly; it is killed with SIGKILL while the copy is
Creating (some percent downloaded) and started again on the same data directory. The reaper
takes the dead run's job back when its lease runs out and the rerun downloads the copy again
to the same path: the template becomes Ready, the file on the store is whole, and the copy is
not left Creating. (The killed agent's temporary ``.part`` file stays beside it: an orphan
for a store scan to find, not a file the store lists.)
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cs import CloudStack

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from tests import databases
from tests.acceptance.conftest import Server, simulator_cluster, start_server, stop_server
from tests.conftest import MigratedUrl
from tests.security import ingest_server

pytestmark = [pytest.mark.acceptance, pytest.mark.slow, pytest.mark.usefixtures("qemu_img")]

MIB = 1024**2
STORE_URL = "nfs://nfs-r.test/export/sec"


@pytest.fixture
def image(tmp_path: Path) -> bytes:
    raw, made = tmp_path / "data.raw", tmp_path / "slow.qcow2"
    raw.write_bytes(bytes(range(256)) * (8 * MIB // 256))
    qemu_img.QemuImg().convert(raw, "raw", made, "qcow2")
    return made.read_bytes()


@pytest.fixture
def served(image: bytes) -> Iterator[ingest_server.Server]:
    with ingest_server.serving() as running:
        running.routes["/slow.qcow2"] = ingest_server.Route(
            image, stall_after=len(image) // 10, stall=1.0, pieces=8
        )
        yield running


def _client(server: Server) -> CloudStack:
    return CloudStack(
        endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )


def _copy_state(data_dir: Path) -> tuple[str, int | None]:
    with sqlite3.connect(data_dir / "cloud.db") as connection:
        state, pct = connection.execute(
            "SELECT state, download_pct FROM template_store_ref"
        ).fetchone()
    return str(state), pct


@pytest.mark.timeout(300)
def test_a_download_cut_by_a_killed_server_is_finished_after_the_restart(
    tmp_path: Path, template_url: MigratedUrl, served: ingest_server.Server, image: bytes
) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    with databases.scratch_database(
        "sqlite", tmp_path, template_url("sqlite"), path=data_dir / "cloud.db"
    ):
        server = start_server(data_dir)
        try:
            api = _client(server)
            api.updateConfiguration(name="job.lease.seconds", value="5")
            stop_server(server)
            server = start_server(data_dir)  # the reaper's interval is set at start
            api = _client(server)
            zone, pod, cluster = simulator_cluster(api)
            api.addHost(
                zoneid=zone, podid=pod, clusterid=cluster, hypervisor="Simulator",
                url="http://sim-1", username="root", password="password",
            )  # fmt: skip
            api.addImageStore(provider="NFS", name="sec", url=STORE_URL, zoneid=zone)
            api.updateConfiguration(name="secstorage.allowed.internal.sites", value="127.0.0.0/8")
            os_type = api.listOsTypes(fetch_list=True)[0]["id"]
            template = api.registerTemplate(
                name="slow", displaytext="slow", url=f"{served.base}/slow.qcow2", zoneid=zone,
                format="QCOW2", hypervisor="Simulator", ostypeid=os_type,
            )["template"][0]  # fmt: skip
            deadline = time.monotonic() + 60
            state, pct = _copy_state(data_dir)
            while not (state == "Creating" and pct) and time.monotonic() < deadline:
                time.sleep(0.1)
                state, pct = _copy_state(data_dir)
            assert state == "Creating" and pct and pct < 100, (state, pct)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=30)
            server = start_server(data_dir)
            api = _client(server)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                [item] = api.listTemplates(templatefilter="self", id=template["id"])["template"]
                if item["isready"]:
                    break
                time.sleep(0.5)
            assert item["isready"] is True, item
            assert _copy_state(data_dir) == ("Ready", 100)
            exports = data_dir / "simulator" / simulator.EXPORTS_DIRECTORY
            store = mounts.StandInMounter(exports).directory(mounts.parse_url(STORE_URL))
            [file] = [p for p in store.rglob("*") if p.is_file() and p.suffix == ".qcow2"]
            assert (
                hashlib.sha256(file.read_bytes()).hexdigest() == hashlib.sha256(image).hexdigest()
            )
        finally:
            stop_server(server)
