"""Registered templates downloaded by their jobs, end to end on every backend: the real
dispatcher (jobs run inline after the registration commits), a simulated host with the real
agent storage (safe ingest, qemu-img), an NFS stand-in store, and a loopback HTTP server
allowed through secstorage.allowed.internal.sites.

The file lands at CloudStack's path with the size and checksum the agent computed, and the copy
becomes Ready (listTemplates: isready, "Download Complete"), with TEMPLATE.DOWNLOAD.START and
SUCCESS events; progress shows as "<n>% Downloaded" while the bytes come; a bad checksum or a
hostile image ends Failed with the agent's reason and nothing on the store; a download whose
worker died is rerun, and one whose job was given up is never left Creating.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.accounts import limits, resources
from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.api import dispatch, jobs, registry
from cirrostack.db.models import events as event_models
from cirrostack.db.models import templates as models
from cirrostack.infrastructure import agents
from cirrostack.jobs import queue, reaper, runner
from cirrostack.states import holds
from cirrostack.storage import template_download
from tests.conftest import Database
from tests.integration.test_infra_commands import Infra
from tests.security import ingest_server

MIB = 1024**2
NFS_URL = "nfs://nfs-t.test/export/sec"

pytestmark = pytest.mark.usefixtures("qemu_img")


@pytest.fixture
def images(tmp_path: Path) -> dict[str, bytes]:
    wrapper = qemu_img.QemuImg()
    good, hostile, big = tmp_path / "good.qcow2", tmp_path / "hostile.qcow2", tmp_path / "big"
    wrapper.create(good, "qcow2", 4 * MIB)
    wrapper.create(hostile, "qcow2", MIB, backing=Path("/etc/hostname"), backing_fmt="raw")
    wrapper.create(big, "raw", 2 * MIB)
    big_qcow2 = tmp_path / "big.qcow2"
    wrapper.convert(big, "raw", big_qcow2, "qcow2")
    # Some data, so the file has bytes to stream past the stall point.
    with big_qcow2.open("ab") as grown:
        grown.write(b"\0" * (2 * MIB))
    return {
        "good": good.read_bytes(),
        "hostile": hostile.read_bytes(),
        "slow": big_qcow2.read_bytes(),
    }


@pytest.fixture
def served(images: dict[str, bytes]) -> Iterator[ingest_server.Server]:
    with ingest_server.serving() as running:
        for name, body in images.items():
            running.routes[f"/{name}.qcow2"] = ingest_server.Route(body)
        yield running


class Cloud(Infra):
    """A zone with one simulated host and an NFS stand-in image store."""

    def __init__(self, database: Database, workdir: Path, *, inline: bool = True) -> None:
        super().__init__(database)
        cloud = self.cloud
        cloud.agents = agents.Agents.in_process(workdir=workdir)
        cloud.dispatcher = dispatch.Dispatcher(
            cloud.registry,
            cloud.sessions,
            services=registry.Services(agents=cloud.agents),
            handoff=None if inline else (lambda: None),
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

    def register(self, url: str, **more: str) -> dict[str, Any]:
        answer = self.ok(
            "registerTemplate", name="t", url=url, zoneid=self.zone_id, format="QCOW2",
            hypervisor="Simulator", ostypeid=self.os_type, **more,
        )  # fmt: skip
        return dict(answer["template"][0])

    def ref(self) -> models.TemplateStoreRef:
        with self.database.sessions() as session:
            return session.scalars(sa.select(models.TemplateStoreRef)).one()

    def files(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.exports)) for p in self.exports.rglob("*") if p.is_file()
        )

    def listed(self, template: dict[str, Any]) -> dict[str, Any]:
        [item] = self.ok("listTemplates", templatefilter="all", id=template["id"])["template"]
        return dict(item)

    def event_types(self) -> list[str]:
        with self.database.sessions() as session:
            return list(
                session.scalars(
                    sa.select(event_models.Event.type)
                    .where(event_models.Event.type.like("TEMPLATE.DOWNLOAD.%"))
                    .order_by(event_models.Event.id)
                )
            )

    def download_jobs(self) -> list[queue.Job]:
        with self.database.sessions() as session:
            return list(
                session.scalars(
                    sa.select(queue.Job)
                    .where(queue.Job.job_cmd == "downloadTemplate")
                    .order_by(queue.Job.id)
                )
            )


@pytest.fixture
def cloud(database: Database, tmp_path: Path) -> Cloud:
    return Cloud(database, tmp_path / "agents")


def test_registration_downloads_to_cloudstacks_path(
    cloud: Cloud, served: Any, images: dict[str, bytes]
) -> None:
    digest = hashlib.sha256(images["good"]).hexdigest()
    template = cloud.register(f"{served.base}/good.qcow2", checksum=f"{{SHA-256}}{digest}")
    assert (template["isready"], template["status"]) == (False, "Download in progress")
    ref = cloud.ref()
    assert (ref.state, ref.download_state, ref.download_pct) == ("Ready", "DOWNLOADED", 100)
    assert ref.install_path == f"template/tmpl/2/{ref.template_id}/{ref.template_id}.qcow2"
    assert (ref.size, ref.physical_size) == (4 * MIB, len(images["good"]))
    assert ref.install_path in cloud.files()
    on_store = (cloud.exports / ref.install_path).read_bytes()
    assert hashlib.sha256(on_store).hexdigest() == digest
    listed = cloud.listed(template)
    assert (listed["isready"], listed["status"], listed["size"]) == (
        True,
        "Download Complete",
        4 * MIB,
    )
    assert listed["checksum"] == f"{{SHA-256}}{digest}"
    assert cloud.event_types() == ["TEMPLATE.DOWNLOAD.START", "TEMPLATE.DOWNLOAD.SUCCESS"]
    [job] = cloud.download_jobs()
    assert (job.job_status, job.instance_type) == (queue.Status.SUCCEEDED, "TemplateStoreRef")


def test_a_computed_checksum_is_kept_when_none_was_given(cloud: Cloud, served: Any) -> None:
    template = cloud.register(f"{served.base}/good.qcow2")
    assert cloud.listed(template)["checksum"].startswith("{MD5}")


def test_a_bad_checksum_fails_leaving_nothing(cloud: Cloud, served: Any) -> None:
    template = cloud.register(f"{served.base}/good.qcow2", checksum="{SHA-256}" + "0" * 64)
    ref = cloud.ref()
    assert (ref.state, ref.download_state) == ("Failed", "DOWNLOAD_ERROR")
    assert ref.error_str and "checksum" in ref.error_str
    assert [f for f in cloud.files() if not f.endswith("template.properties")] == []
    listed = cloud.listed(template)
    assert listed["isready"] is False and "checksum" in listed["status"]
    assert cloud.event_types() == ["TEMPLATE.DOWNLOAD.START", "TEMPLATE.DOWNLOAD.FAILED"]
    [job] = cloud.download_jobs()
    assert job.job_status == queue.Status.FAILED and "checksum" in (job.job_result or "")


def test_a_hostile_image_fails_leaving_nothing(cloud: Cloud, served: Any) -> None:
    template = cloud.register(f"{served.base}/hostile.qcow2")
    ref = cloud.ref()
    assert (ref.state, ref.download_state) == ("Failed", "DOWNLOAD_ERROR")
    assert ref.error_str and "backing" in ref.error_str
    assert [f for f in cloud.files() if not f.endswith("template.properties")] == []
    listed = cloud.listed(template)
    assert listed["isready"] is False and "backing" in listed["status"]


def test_progress_is_listed_while_the_bytes_come(
    cloud: Cloud, served: Any, images: dict[str, bytes]
) -> None:
    body = images["slow"]
    served.routes["/slow.qcow2"] = ingest_server.Route(
        body, stall_after=len(body) // 5, stall=0.8, pieces=4
    )
    registered: list[dict[str, Any]] = []
    thread = threading.Thread(
        target=lambda: registered.append(cloud.register(f"{served.base}/slow.qcow2"))
    )
    thread.start()
    seen: set[str] = set()
    writes: list[float] = []
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        listed = cloud.ok("listTemplates", templatefilter="all").get("template", [])
        seen.update(item["status"] for item in listed)
        if any(s.endswith("% Downloaded") for s in seen) and not writes:
            # No transaction is held while the agent downloads: a write goes through at once
            # (on SQLite a held writing transaction would make it wait for the download).
            began = time.monotonic()
            cloud.ok("createDiskOffering", name="w", displaytext="w", disksize="1")
            writes.append(time.monotonic() - began)
        time.sleep(0.1)
    thread.join(30)
    assert writes and writes[0] < 1.0, writes
    partial = {status for status in seen if status.endswith("% Downloaded")}
    assert any(0 < int(status.split("%")[0]) < 100 for status in partial), seen
    assert cloud.listed(registered[0])["status"] == "Download Complete"
    [job] = cloud.download_jobs()
    assert job.job_process_status and job.job_process_status > 0


def test_a_lost_download_is_rerun_and_a_given_up_one_is_failed_not_stranded(
    database: Database, tmp_path: Path, served: Any
) -> None:
    cloud = Cloud(database, tmp_path / "agents", inline=False)
    template = cloud.register(f"{served.base}/good.qcow2")
    [job] = cloud.download_jobs()
    assert cloud.ref().state == "Allocated"  # the job waits; the copy is its instance
    sessions = database.sessions
    assert reaper.sweep(sessions, max_attempts=2).recovered == []
    # A worker claims it, moves the copy to Creating, and dies (its lease runs out).
    _claim_and_start(cloud, job.id)
    assert cloud.ref().state == "Creating"
    time.sleep(2.5)  # the database clock counts whole seconds
    swept = reaper.sweep(sessions, max_attempts=2)
    assert swept.requeued == [job.id] and cloud.ref().state == "Creating"
    # The rerun finds its copy Creating and downloads it again: Ready.
    cloud.cloud.dispatcher.handoff = _inline(cloud)
    cloud.cloud.dispatcher.handoff()
    assert cloud.ref().state == "Ready" and cloud.listed(template)["isready"] is True

    other = cloud.register(f"{served.base}/good.qcow2")  # waits: handoff is inline again
    assert cloud.listed(other)["isready"] is True


def test_a_download_whose_job_was_given_up_ends_failed(
    database: Database, tmp_path: Path, served: Any
) -> None:
    cloud = Cloud(database, tmp_path / "agents", inline=False)
    template = cloud.register(f"{served.base}/good.qcow2")
    [job] = cloud.download_jobs()
    _claim_and_start(cloud, job.id)
    time.sleep(2.5)
    sessions = database.sessions
    swept = reaper.sweep(sessions, max_attempts=1)  # given up: failed, Creating → Allocated
    assert swept.failed == [job.id]
    assert cloud.ref().state == "Allocated"
    reaper.sweep(sessions, max_attempts=1)  # Allocated with no job left → Failed
    ref = cloud.ref()
    assert (ref.state, ref.download_state) == ("Failed", "DOWNLOAD_ERROR")
    assert cloud.listed(template)["status"] == "Download Failed"


def _claim_and_start(cloud: Cloud, job_id: int) -> None:
    """A worker's claim with a one-second lease, and the job's first step (the copy
    Allocated → Creating, held by the job), committed; then the worker "dies"."""
    with cloud.database.sessions() as session:
        [claim] = queue.claim(session, 99, datetime.timedelta(seconds=1), job_id=job_id)
        session.commit()
        holds.act_for(session, claim.job_id)
        ref = session.scalars(sa.select(models.TemplateStoreRef)).one()
        template_download.start(session, ref.id)
        session.commit()


def _inline(cloud: Cloud) -> Any:
    services = registry.Services(agents=cloud.cloud.agents, sessions=cloud.database.sessions)
    return runner.Inline(
        cloud.database.sessions,
        jobs.command_runner(cloud.cloud.registry, cloud.database.sessions, services),
    ).submitted


def test_an_iso_downloads_through_the_same_job(cloud: Cloud, served: Any) -> None:
    image = bytearray(64 * 1024)
    image[0x8001:0x8006] = b"CD001"  # the ISO 9660 signature of the first volume descriptor
    served.routes["/boot.iso"] = ingest_server.Route(bytes(image))
    answer = cloud.ok(
        "registerIso", name="boot", displaytext="boot", url=f"{served.base}/boot.iso",
        zoneid=cloud.zone_id, ostypeid=cloud.os_type,
    )  # fmt: skip
    iso = answer["iso"][0]
    ref = cloud.ref()
    assert (ref.state, ref.size) == ("Ready", len(image))
    assert ref.install_path == f"template/tmpl/2/{ref.template_id}/{ref.template_id}.iso"
    [listed] = cloud.ok("listIsos", isofilter="self", id=iso["id"])["iso"]
    assert (listed["isready"], listed["status"]) == (True, "Download Complete")
    assert cloud.event_types() == ["TEMPLATE.DOWNLOAD.START", "TEMPLATE.DOWNLOAD.SUCCESS"]


def test_the_internal_job_commands_are_not_reachable_from_the_api(cloud: Cloud) -> None:
    for name in ("downloadTemplate", "copyTemplateToPool"):
        status, text = cloud.error(name, zoneid=cloud.zone_id)
        assert (status, "does not exist" in text) == (401, True)
    names = {api["name"] for api in cloud.ok("listApis")["api"]}
    assert {"copyTemplate", "prepareTemplate", "deleteTemplate"} <= names
    assert not {"downloadTemplate", "copyTemplateToPool"} & names


def _secondary_count(cloud: Cloud, account_id: int = 2) -> int:
    with cloud.database.sessions() as session:
        return limits.count_of(
            session, resources.ResourceType.SECONDARY_STORAGE, account_id=account_id
        )


def test_a_ready_copy_counts_against_secondary_storage_until_it_is_deleted(
    cloud: Cloud, served: Any
) -> None:
    template = cloud.register(f"{served.base}/good.qcow2")
    ref = cloud.ref()
    assert ref.state == "Ready" and ref.physical_size
    assert _secondary_count(cloud) == ref.physical_size
    answer = cloud.cloud.call(cloud.admin, "deleteTemplate", id=template["id"])
    assert cloud.cloud.job(cloud.admin, answer)["jobstatus"] == 1
    assert _secondary_count(cloud) == 0


def test_a_copy_over_the_secondary_storage_limit_fails_and_its_file_goes(
    cloud: Cloud, served: Any
) -> None:
    [root] = cloud.ok("listDomains", name="ROOT")["domain"]
    user = cloud.cloud.member("u", root["id"])
    cloud.ok("updateResourceLimit", resourcetype="11", max="0", account="u", domainid=root["id"])
    answer = cloud.cloud.ok(
        user.keys, "registerTemplate", name="t", url=f"{served.base}/good.qcow2",
        zoneid=cloud.zone_id, format="QCOW2", hypervisor="Simulator", ostypeid=cloud.os_type,
    )  # fmt: skip
    template = answer["template"][0]
    ref = cloud.ref()
    assert (ref.state, ref.download_state) == ("Failed", "DOWNLOAD_ERROR")
    assert ref.error_str and "secondary_storage" in ref.error_str
    assert [f for f in cloud.files() if not f.endswith("template.properties")] == []
    assert cloud.listed(template)["isready"] is False
    assert cloud.event_types() == ["TEMPLATE.DOWNLOAD.START", "TEMPLATE.DOWNLOAD.FAILED"]
    with cloud.database.sessions() as session:
        owner = session.scalars(sa.select(models.VmTemplate.account_id)).one()
    assert _secondary_count(cloud, owner) == 0
