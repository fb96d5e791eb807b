"""A registered template downloaded end to end: the server's download steps, a simulated host
with the real agent storage (safe ingest, qemu-img), an NFS stand-in store, and a loopback
HTTP server allowed through secstorage.allowed.internal.sites.

The file lands at CloudStack's path and the copy becomes Ready (listTemplates: isready,
"Download Complete"); a hostile image (a backing file) ends DOWNLOAD_ERROR with the agent's
message and nothing on the store, the template still listed with the error as its status.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.api import dispatch, registry
from cirrostack.db.models import templates as models
from cirrostack.infrastructure import agents
from cirrostack.storage import template_download
from tests.conftest import Database
from tests.integration.test_infra_commands import Infra
from tests.security import ingest_server

MIB = 1024**2
NFS_URL = "nfs://nfs-t.test/export/sec"

pytestmark = pytest.mark.usefixtures("qemu_img")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ingest_server.Server]:
    wrapper = qemu_img.QemuImg()
    good, hostile = tmp_path / "good.qcow2", tmp_path / "hostile.qcow2"
    wrapper.create(good, "qcow2", 4 * MIB)
    wrapper.create(hostile, "qcow2", MIB, backing=Path("/etc/hostname"), backing_fmt="raw")
    with ingest_server.serving() as running:
        running.routes["/good.qcow2"] = ingest_server.Route(good.read_bytes())
        running.routes["/hostile.qcow2"] = ingest_server.Route(hostile.read_bytes())
        yield running


class Cloud(Infra):
    def __init__(self, database: Database, workdir: Path) -> None:
        super().__init__(database)
        cloud = self.cloud
        cloud.agents = agents.Agents.in_process(workdir=workdir)
        cloud.dispatcher = dispatch.Dispatcher(
            cloud.registry, cloud.sessions, services=registry.Services(agents=cloud.agents)
        )
        zone = self.zone()
        pod = self.pod(zone["id"])
        self.host(self.cluster(zone["id"], pod["id"]))
        self.zone_id = zone["id"]
        self.ok("addImageStore", provider="NFS", url=NFS_URL, zoneid=zone["id"])
        self.ok(
            "updateConfiguration", name="secstorage.allowed.internal.sites", value="127.0.0.0/8"
        )
        self.os_type = self.ok("listOsTypes")["ostype"][0]["id"]
        self.exports = mounts.StandInMounter(workdir / simulator.EXPORTS_DIRECTORY).directory(
            mounts.parse_url(NFS_URL)
        )

    def register(self, url: str) -> dict[str, Any]:
        answer = self.ok(
            "registerTemplate", name="t", url=url, zoneid=self.zone_id, format="QCOW2",
            hypervisor="Simulator", ostypeid=self.os_type,
        )  # fmt: skip
        return dict(answer["template"][0])

    def ref(self) -> models.TemplateStoreRef:
        with self.database.sessions() as session:
            return session.scalars(sa.select(models.TemplateStoreRef)).one()

    def files(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.exports)) for p in self.exports.rglob("*") if p.is_file()
        )


@pytest.fixture
def cloud(sqlite_database: Database, tmp_path: Path) -> Cloud:
    return Cloud(sqlite_database, tmp_path / "agents")


def test_a_template_downloads_to_cloudstacks_path(cloud: Cloud, served: Any) -> None:
    template = cloud.register(f"{served.base}/good.qcow2")
    ref = cloud.ref()
    assert template_download.download(cloud.database.sessions, cloud.cloud.agents, ref.id)
    ref = cloud.ref()
    assert (ref.state, ref.download_state, ref.download_pct) == ("Ready", "DOWNLOADED", 100)
    assert ref.install_path and ref.install_path.startswith("template/tmpl/2/")
    assert ref.size == 4 * MIB
    assert ref.install_path in cloud.files()
    [listed] = cloud.ok("listTemplates", templatefilter="all", id=template["id"])["template"]
    assert (listed["isready"], listed["status"], listed["size"]) == (
        True,
        "Download Complete",
        4 * MIB,
    )
    assert listed["checksum"].startswith("{")


def test_a_hostile_image_ends_in_download_error_leaving_nothing(cloud: Cloud, served: Any) -> None:
    template = cloud.register(f"{served.base}/hostile.qcow2")
    ref = cloud.ref()
    assert not template_download.download(cloud.database.sessions, cloud.cloud.agents, ref.id)
    ref = cloud.ref()
    assert (ref.state, ref.download_state) == ("Failed", "DOWNLOAD_ERROR")
    assert ref.error_str and "backing" in ref.error_str
    assert [f for f in cloud.files() if not f.endswith("template.properties")] == []
    [listed] = cloud.ok("listTemplates", templatefilter="all", id=template["id"])["template"]
    assert listed["isready"] is False and "backing" in listed["status"]
