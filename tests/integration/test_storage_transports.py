"""The storage commands over both transports (issue 8, item 2): in-process, and over HTTP to a
real ``cirrostack agent --backend simulator`` process, the same pool connect, template copy
with progress, linked clone, stats, delete, refusal of an unmounted pool and cancel mid-copy.

Each rig gives the transport, the agent's endpoint and the fleet directory its simulated host
keeps its storage in (the stand-in NFS server's exports are under it).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.protocol import answers, commands, messages
from cirrostack.protocol import storage as st
from cirrostack.transport import base, endpoint, http, inprocess
from cirrostack.transport import errors as transport_errors
from tests import agent_processes

MIB = 1024**2
GUID = "g-storage-wire"
TO = endpoint.Endpoint(1, GUID, "sim-storage-wire")
INACTIVITY = 10.0
EXPORT = "nfs://nfs-a.test/export/secondary"

#: The qemu_img fixture skips without qemu-img on a developer machine and fails under CI.
pytestmark = pytest.mark.usefixtures("qemu_img")


@dataclass
class Rig:
    transport: base.Transport
    common: Path


class _Remotes:
    def __init__(self, remote: http.Remote) -> None:
        self.remote = remote

    def remote_for(self, guid: str) -> http.Remote | None:
        return self.remote if guid == GUID else None


@pytest.fixture(scope="module")
def agent_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("storage-agent") / "dir"
    process = agent_processes.start(data_dir)
    try:
        yield data_dir
    finally:
        agent_processes.stop(process)


@pytest.fixture(params=["in-process", "http"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    if request.param == "in-process":
        fleet = simulator.Fleet(tmp_path)
        fleet.boot(simulator.Spec(GUID, TO.name, "10.0.0.5"))
        return Rig(inprocess.InProcessTransport(fleet, lambda: INACTIVITY), tmp_path)
    data_dir: Path = request.getfixturevalue("agent_process")
    written = agent_processes.identity(data_dir)
    remote = http.Remote(written["url"], written["secret"])
    transport = http.HttpTransport(_Remotes(remote), lambda: INACTIVITY)
    return Rig(transport, data_dir / "work")


def _pool() -> st.PrimaryDataStoreTO:
    """A NetworkFilesystem pool on an export of its own (the agent process outlives tests)."""
    name = str(uuid.uuid4())
    return st.PrimaryDataStoreTO(
        uuid=name,
        id=3,
        name="nfs-primary",
        pool_type=st.StoragePoolType.NETWORK_FILESYSTEM,
        host="nfs-b.test",
        path=f"/export/{name}",
    )


def _template(rig: Rig, tmp_path: Path, size: int, data: int, fmt: str) -> st.TemplateObjectTO:
    """A template file on the stand-in NFS image store of the rig's fleet."""
    store = st.NfsTO(uuid=str(uuid.uuid4()), url=EXPORT)
    served = mounts.StandInMounter(rig.common / simulator.EXPORTS_DIRECTORY).directory(
        mounts.parse_url(EXPORT)
    )
    path = f"template/tmpl/2/{uuid.uuid4().int % 1000}/{uuid.uuid4()}.{fmt}"
    raw = tmp_path / "source.raw"
    with raw.open("wb") as out:
        out.truncate(size)
        for part in range(4):
            out.seek(part * size // 4)
            out.write(os.urandom(data * MIB // 4))
    (served / path).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "qcow2":
        qemu_img.QemuImg().convert(raw, "raw", served / path, "qcow2")
    else:
        raw.rename(served / path)
    return st.TemplateObjectTO(
        uuid=str(uuid.uuid4()),
        id=9,
        name="t9",
        format=st.ImageFormat(fmt.upper()),
        image_data_store=store,
        path=path,
        account_id=2,
    )


def test_storage_commands_run_the_same_over_each_transport(rig: Rig, tmp_path: Path) -> None:
    pool = _pool()
    with pytest.raises(transport_errors.AgentFailed, match="is not mounted"):
        base.exchange(
            rig.transport, TO, st.GetStorageStatsCommand(store=pool), st.GetStorageStatsAnswer
        )
    connected = base.exchange(
        rig.transport,
        TO,
        st.ModifyStoragePoolCommand(add=True, pool=pool),
        st.ModifyStoragePoolAnswer,
    )
    assert connected.capacity_bytes > 0 and connected.template_info == {}
    template = _template(rig, tmp_path, 16 * MIB, 4, "qcow2")
    seen: list[messages.Progress] = []
    copy = st.CopyCommand(src=template, dest=replace(template, image_data_store=pool, path=None))
    copied = base.exchange(rig.transport, TO, copy, st.CopyCmdAnswer, seen.append).new_data
    assert isinstance(copied, st.TemplateObjectTO)
    assert copied.path == template.uuid and copied.size == 16 * MIB
    assert seen and seen[-1].done == seen[-1].total and {p.command_id for p in seen} == {copy.id}

    volume = st.VolumeObjectTO(
        uuid=str(uuid.uuid4()),
        id=5,
        name="root",
        volume_type=st.VolumeType.ROOT,
        data_store=pool,
        size=32 * MIB,
    )
    create = st.CreateObjectCommand(data=volume, template_path=copied.path)
    made = base.exchange(rig.transport, TO, create, st.CreateObjectAnswer).data
    assert (made.path, made.size) == (volume.uuid, 32 * MIB)
    root = Path(connected.local_path)
    assert qemu_img.QemuImg().info(root / volume.uuid, "qcow2").backing_file == template.uuid

    again = base.exchange(
        rig.transport,
        TO,
        st.ModifyStoragePoolCommand(add=True, pool=pool),
        st.ModifyStoragePoolAnswer,
    )
    assert list(again.template_info) == [template.uuid]
    base.exchange(rig.transport, TO, st.DeleteCommand(data=made), messages.Answer)
    assert not (root / volume.uuid).exists()
    base.exchange(rig.transport, TO, st.DeleteStoragePoolCommand(pool=pool), messages.Answer)
    with pytest.raises(transport_errors.AgentFailed, match="is not mounted"):
        base.exchange(rig.transport, TO, create, st.CreateObjectAnswer)


def test_a_copy_cancelled_over_the_transport_leaves_nothing(rig: Rig, tmp_path: Path) -> None:
    pool = _pool()
    connected = base.exchange(
        rig.transport,
        TO,
        st.ModifyStoragePoolCommand(add=True, pool=pool),
        st.ModifyStoragePoolAnswer,
    )
    # Copies pause copystepms after each chunk: 300 ms here, time to cancel the first.
    knobs = simulator.Knobs(copy_step_ms=300)
    startup = commands.StartupRoutingCommand(
        host_id=1, host_uuid="u-1", guid=GUID, name=TO.name, settings=knobs.to_details()
    )
    base.exchange(rig.transport, TO, startup, answers.StartupRoutingAnswer)
    template = _template(rig, tmp_path, 64 * MIB, 32, "raw")
    copy = st.CopyCommand(src=template, dest=replace(template, image_data_store=pool, path=None))
    started = threading.Event()
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            base.exchange(rig.transport, TO, copy, st.CopyCmdAnswer, lambda _: started.set())
        except BaseException as exc:
            outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    assert started.wait(10)
    rig.transport.cancel(TO, copy.id)
    sender.join(10)
    assert len(outcome) == 1, "the copy finished before it could be cancelled"
    assert isinstance(outcome[0], transport_errors.CommandCancelled), outcome
    assert sorted(p.name for p in Path(connected.local_path).iterdir()) == []


def test_agent_processes_sharing_a_directory_share_their_nfs_pools(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    shared = tmp_path_factory.mktemp("shared")
    started = []
    transports = []
    try:
        for name in ("a", "b"):
            data_dir = tmp_path_factory.mktemp(f"agent-{name}") / "dir"
            started.append(
                agent_processes.start(data_dir, "127.0.0.1:0", "--shared-dir", str(shared))
            )
            written = agent_processes.identity(data_dir)
            remote = http.Remote(written["url"], written["secret"])
            transports.append(http.HttpTransport(_Remotes(remote), lambda: INACTIVITY))
        first, second = transports
        pool = _pool()
        for transport in transports:
            base.exchange(
                transport,
                TO,
                st.ModifyStoragePoolCommand(add=True, pool=pool),
                st.ModifyStoragePoolAnswer,
            )
        template = _template(Rig(first, shared), tmp_path, 8 * MIB, 2, "qcow2")
        copy = st.CopyCommand(
            src=template, dest=replace(template, image_data_store=pool, path=None)
        )
        copied = base.exchange(first, TO, copy, st.CopyCmdAnswer).new_data
        seen = base.exchange(
            second, TO, st.ModifyStoragePoolCommand(add=True, pool=pool), st.ModifyStoragePoolAnswer
        )
        assert list(seen.template_info) == [template.uuid]
        volume = st.VolumeObjectTO(
            uuid=str(uuid.uuid4()),
            id=6,
            name="root",
            volume_type=st.VolumeType.ROOT,
            data_store=pool,
            size=8 * MIB,
        )
        create = st.CreateObjectCommand(data=volume, template_path=copied.path)
        assert base.exchange(second, TO, create, st.CreateObjectAnswer).data.path == volume.uuid
    finally:
        for process in started:
            agent_processes.stop(process)
