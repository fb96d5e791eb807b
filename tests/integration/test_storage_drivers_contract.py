"""One contract, every storage driver (issue 8, item 2): the primary pool drivers (Filesystem,
SharedMountPoint, NetworkFilesystem through the stand-in mounter) and the image store drivers
(NFS through the stand-in mounter, S3 against a real S3 endpoint: moto in server mode) behave
the same under the storage commands, run by a simulated host's processor on real files with the
real qemu-img: create, copy in each direction, delete (twice), stats, refused paths, a cancel
mid-copy, a full disk (a 1 MiB tmpfs).

The commands go through ``Agent.handle``, as both transports deliver them; the last tests send
them over both transports (in-process and HTTP to a ``cirrostack agent`` process).
"""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.protocol import answers, messages
from cirrostack.protocol import storage as st
from tests import s3_server

MIB = 1024**2
GUID = "g-storage"
POOL_KINDS = ["Filesystem", "SharedMountPoint", "NetworkFilesystem"]
STORE_KINDS = ["NFS", "S3"]

#: The qemu_img fixture skips without qemu-img on a developer machine and fails under CI.
pytestmark = pytest.mark.usefixtures("qemu_img")


@pytest.fixture(scope="module")
def s3() -> Iterator[s3_server.Endpoint]:
    endpoint = s3_server.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@dataclass
class Rig:
    """One simulated host with its fleet directory, and how to run a command on it."""

    fleet: Path
    host: simulator.SimulatedHost

    def run(self, command: messages.Command, report: Any = None) -> messages.Answer:
        return self.host.handle(command, report)

    def ok(self, command: messages.Command, kind: type[Any]) -> Any:
        answer = self.run(command)
        assert answer.result, answer.details
        assert isinstance(answer, kind), answer
        return answer

    def refused(self, command: messages.Command, match: str) -> str:
        answer = self.run(command)
        assert not answer.result and match in answer.details, answer
        return answer.details


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    fleet = simulator.Fleet(tmp_path)
    host = fleet.boot(simulator.Spec(GUID, "sim-storage", "10.0.0.9"))
    return Rig(tmp_path, host)


def pool_to(kind: str, name: str = "pool") -> st.PrimaryDataStoreTO:
    pool_type = st.StoragePoolType(kind)
    where = {
        "Filesystem": ("localhost", f"/var/lib/libvirt/{name}"),
        "SharedMountPoint": ("localhost", f"/mnt/gfs2/{name}"),
        "NetworkFilesystem": ("nfs-a.test", f"/export/{name}"),
    }[kind]
    return st.PrimaryDataStoreTO(
        uuid=str(uuid.uuid4()), id=1, name=name, pool_type=pool_type, host=where[0], path=where[1]
    )


def connect(rig: Rig, pool: st.PrimaryDataStoreTO) -> Path:
    answer = rig.ok(st.ModifyStoragePoolCommand(add=True, pool=pool), st.ModifyStoragePoolAnswer)
    return Path(answer.local_path)


@pytest.fixture(params=POOL_KINDS)
def pool(request: pytest.FixtureRequest, rig: Rig) -> tuple[st.PrimaryDataStoreTO, Path]:
    made = pool_to(request.param)
    return made, connect(rig, made)


@dataclass
class Store:
    """An image store and how the test puts and sees objects on it."""

    to: st.NfsTO | st.S3TO
    put: Any
    get: Any  # path -> bytes | None


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, rig: Rig) -> Store:
    if request.param == "NFS":
        to = st.NfsTO(uuid=str(uuid.uuid4()), url="nfs://nfs-b.test/export/secondary")
        served = mounts.StandInMounter(rig.fleet / simulator.EXPORTS_DIRECTORY).directory(
            mounts.parse_url(to.url)
        )

        def put(path: str, file: Path) -> None:
            (served / path).parent.mkdir(parents=True, exist_ok=True)
            (served / path).write_bytes(file.read_bytes())

        def get(path: str) -> bytes | None:
            return (served / path).read_bytes() if (served / path).is_file() else None

        return Store(to, put, get)
    endpoint: s3_server.Endpoint = request.getfixturevalue("s3")
    bucket = endpoint.bucket()
    client = endpoint.client()
    s3_to = endpoint.store_to(bucket, max_single_upload_bytes=6 * MIB)

    def put_object(path: str, file: Path) -> None:
        client.upload_file(str(file), bucket, path)

    def get_object(path: str) -> bytes | None:
        try:
            return bytes(client.get_object(Bucket=bucket, Key=path)["Body"].read())
        except client.exceptions.NoSuchKey:
            return None

    return Store(s3_to, put_object, get_object)


def image(tmp_path: Path, fmt: str = "qcow2", size: int = 16 * MIB, data: int = 3) -> Path:
    """A disk image with ``data`` MiB written at the start of each quarter (so it has holes)."""
    raw = tmp_path / f"src-{uuid.uuid4().hex[:8]}.raw"
    with raw.open("wb") as out:
        out.truncate(size)
        for quarter in range(4):
            out.seek(quarter * size // 4)
            out.write(os.urandom(data * MIB // 4 or 1))
    if fmt == "raw":
        return raw
    made = raw.with_suffix(".qcow2")
    qemu_img.QemuImg().convert(raw, "raw", made, "qcow2")
    raw.unlink()
    return made


def template_on(store: Store, source: Path, fmt: st.ImageFormat = st.ImageFormat.QCOW2) -> Any:
    path = f"template/tmpl/2/201/{uuid.uuid4()}.{fmt.value.lower()}"
    store.put(path, source)
    return st.TemplateObjectTO(
        uuid=str(uuid.uuid4()),
        id=201,
        name="tmpl-201",
        format=fmt,
        image_data_store=store.to,
        path=path,
        account_id=2,
    )


def volume_on(pool: st.PrimaryDataStoreTO, size: int = 8 * MIB, **fields: Any) -> Any:
    return st.VolumeObjectTO(
        uuid=str(uuid.uuid4()),
        id=7,
        name="vol",
        volume_type=st.VolumeType.DATADISK,
        data_store=pool,
        size=size,
        account_id=2,
        **fields,
    )


def info(path: Path, fmt: str = "qcow2") -> qemu_img.ImageInfo:
    return qemu_img.QemuImg().info(path, fmt)


def same_content(a: Path, a_fmt: str, b: Path, b_fmt: str) -> bool:
    return qemu_img.QemuImg().compare(a, a_fmt, b, b_fmt)


def leftovers(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file()
        and not p.relative_to(root).parts[0].startswith(".")
        and not p.name.endswith(mounts.MARKER_SUFFIX)
    )


# --- pools ---------------------------------------------------------------------------------


def test_a_connected_pool_reports_its_size(rig: Rig, pool: tuple[Any, Path]) -> None:
    to, root = pool
    answer = rig.ok(st.ModifyStoragePoolCommand(add=True, pool=to), st.ModifyStoragePoolAnswer)
    assert root.is_dir() and answer.pool_type == to.pool_type
    assert 0 < answer.available_bytes <= answer.capacity_bytes
    assert answer.template_info == {}
    stats = rig.ok(st.GetStorageStatsCommand(store=to), st.GetStorageStatsAnswer)
    assert stats.capacity_bytes == answer.capacity_bytes and stats.used_bytes >= 0


@pytest.mark.parametrize(
    ("fmt", "provisioning"),
    [
        (st.ImageFormat.QCOW2, st.ProvisioningType.THIN),
        (st.ImageFormat.QCOW2, st.ProvisioningType.SPARSE),
        (st.ImageFormat.RAW, st.ProvisioningType.THIN),
        (st.ImageFormat.RAW, st.ProvisioningType.FAT),
    ],
)
def test_an_empty_volume_is_named_by_its_uuid(
    rig: Rig, pool: tuple[Any, Path], fmt: st.ImageFormat, provisioning: st.ProvisioningType
) -> None:
    to, root = pool
    volume = volume_on(to, format=fmt, provisioning_type=provisioning)
    made = rig.ok(st.CreateObjectCommand(data=volume), st.CreateObjectAnswer).data
    assert (made.path, made.size, made.format) == (volume.uuid, 8 * MIB, fmt)
    file = root / volume.uuid
    assert info(file, fmt.value.lower()).virtual_size == 8 * MIB
    allocated = file.stat().st_blocks * 512
    if provisioning is st.ProvisioningType.FAT:
        assert allocated >= 8 * MIB
    elif fmt is st.ImageFormat.RAW:
        assert allocated < MIB
    assert leftovers(root) == [volume.uuid]


def test_a_template_reaches_a_pool_once_named_by_its_uuid_and_volumes_clone_it(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    source = image(tmp_path)
    template = template_on(store, source)
    dest = replace(template, image_data_store=to, path=None)
    copied = rig.ok(st.CopyCommand(src=template, dest=dest), st.CopyCmdAnswer).new_data
    assert copied.path == template.uuid and copied.format is st.ImageFormat.QCOW2
    assert copied.size == 16 * MIB and copied.physical_size == (root / template.uuid).stat().st_size
    assert same_content(source, "qcow2", root / template.uuid, "qcow2")
    found = rig.ok(st.ModifyStoragePoolCommand(add=True, pool=to), st.ModifyStoragePoolAnswer)
    assert list(found.template_info) == [template.uuid]
    assert found.template_info[template.uuid].size == 16 * MIB

    thin = volume_on(to, size=32 * MIB)
    create = st.CreateObjectCommand(data=thin, template_path=copied.path)
    linked = rig.ok(create, st.CreateObjectAnswer).data
    assert (linked.path, linked.size, linked.format) == (thin.uuid, 32 * MIB, st.ImageFormat.QCOW2)
    overlay = info(root / thin.uuid)
    assert overlay.backing_file == template.uuid and overlay.backing_format == "qcow2"

    fat = volume_on(to, provisioning_type=st.ProvisioningType.SPARSE)
    full = rig.ok(st.CopyCommand(src=copied, dest=fat), st.CopyCmdAnswer).new_data
    assert full.path == fat.uuid and full.size == 16 * MIB  # the template is the larger
    assert info(root / fat.uuid).backing_file is None
    assert same_content(source, "qcow2", root / fat.uuid, "qcow2")


def test_a_raw_template_is_copied_as_it_is(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    source = image(tmp_path, "raw")
    template = template_on(store, source, st.ImageFormat.RAW)
    dest = replace(template, image_data_store=to, path=None)
    progress: list[messages.Progress] = []
    answer = rig.run(st.CopyCommand(src=template, dest=dest), progress.append)
    assert answer.result, answer.details
    assert (root / template.uuid).read_bytes() == source.read_bytes()
    assert progress and progress[-1].done == progress[-1].total == 16 * MIB
    assert {p.phase for p in progress} == {"copying"}


def test_volumes_copy_pool_to_pool_and_to_and_from_an_image_store(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    other = pool_to("Filesystem", "other")
    other_root = connect(rig, other)
    volume = volume_on(to, format=st.ImageFormat.QCOW2)
    made = rig.ok(st.CreateObjectCommand(data=volume), st.CreateObjectAnswer).data

    moved = replace(volume, data_store=other, path=None)
    there = rig.ok(st.CopyCommand(src=made, dest=moved), st.CopyCmdAnswer).new_data
    assert there.path.endswith(".qcow2") and there.path != volume.uuid
    assert same_content(root / volume.uuid, "qcow2", other_root / there.path, "qcow2")

    up = replace(volume, data_store=store.to, path=None)
    stored = rig.ok(st.CopyCommand(src=made, dest=up), st.CopyCmdAnswer).new_data
    assert stored.path.startswith(f"volumes/2/{volume.id}/") and stored.path.endswith(".qcow2")
    assert store.get(stored.path) is not None

    down = replace(volume, data_store=to, path=None)
    back = rig.ok(st.CopyCommand(src=stored, dest=down), st.CopyCmdAnswer).new_data
    assert back.path not in (volume.uuid, stored.path) and (root / back.path).is_file()
    assert same_content(root / volume.uuid, "qcow2", root / back.path, "qcow2")


def test_a_linked_clone_leaves_its_pool_flattened(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    template = template_on(store, image(tmp_path))
    copied = rig.ok(
        st.CopyCommand(src=template, dest=replace(template, image_data_store=to, path=None)),
        st.CopyCmdAnswer,
    ).new_data
    thin = volume_on(to, size=16 * MIB)
    linked = rig.ok(
        st.CreateObjectCommand(data=thin, template_path=copied.path), st.CreateObjectAnswer
    ).data
    up = rig.ok(
        st.CopyCommand(src=linked, dest=replace(thin, data_store=store.to, path=None)),
        st.CopyCmdAnswer,
    ).new_data
    fetched = tmp_path / "fetched.qcow2"
    fetched.write_bytes(store.get(up.path))
    assert info(fetched).backing_file is None
    assert same_content(root / thin.uuid, "qcow2", fetched, "qcow2")


def test_a_template_is_copied_between_image_stores(
    rig: Rig, store: Store, tmp_path: Path, s3: s3_server.Endpoint
) -> None:
    source = image(tmp_path)
    template = template_on(store, source)
    other: st.NfsTO | st.S3TO
    if isinstance(store.to, st.S3TO):
        other = st.NfsTO(uuid=str(uuid.uuid4()), url="nfs://nfs-c.test/export/zone2")
    else:
        other = s3.store_to(s3.bucket())
    dest = replace(template, image_data_store=other, path=None)
    copied = rig.ok(st.CopyCommand(src=template, dest=dest), st.CopyCmdAnswer).new_data
    assert copied.path.startswith("template/tmpl/2/201/")
    if isinstance(other, st.S3TO):
        assert copied.path.endswith(f"/tmpl-201/{template.path.rpartition('/')[2]}")
    assert copied.size == 16 * MIB and copied.physical_size > 0


def test_delete_is_idempotent(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    volume = volume_on(to)
    made = rig.ok(st.CreateObjectCommand(data=volume), st.CreateObjectAnswer).data
    assert rig.run(st.DeleteCommand(data=made)).result
    assert not (root / volume.uuid).exists()
    again = rig.run(st.DeleteCommand(data=made))
    assert again.result and "already gone" in again.details

    template = template_on(store, image(tmp_path))
    assert store.get(template.path) is not None
    assert rig.run(st.DeleteCommand(data=template)).result
    assert store.get(template.path) is None
    assert rig.run(st.DeleteCommand(data=template)).result


def test_image_store_stats(rig: Rig, store: Store, tmp_path: Path) -> None:
    source = image(tmp_path)
    template_on(store, source)
    stats = rig.ok(st.GetStorageStatsCommand(store=store.to), st.GetStorageStatsAnswer)
    if isinstance(store.to, st.S3TO):
        assert (stats.capacity_bytes, stats.used_bytes) == (0, source.stat().st_size)
    else:
        assert stats.capacity_bytes > 0 and stats.used_bytes > 0


# --- refusals ------------------------------------------------------------------------------

BAD_PATHS = ["/etc/passwd", "../escape", "a/../../escape", "nul\x00byte", "back\\slash", ""]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_paths_outside_the_store_are_refused(
    rig: Rig, pool: tuple[Any, Path], store: Store, path: str
) -> None:
    to, _root = pool
    before = leftovers(rig.fleet)
    rig.refused(st.CreateObjectCommand(data=volume_on(to, path=path or "x/..")), "path")
    rig.refused(st.DeleteCommand(data=volume_on(to, path=path or "..")), "path")
    template = st.TemplateObjectTO(
        uuid=str(uuid.uuid4()),
        id=1,
        name="t",
        format=st.ImageFormat.QCOW2,
        image_data_store=store.to,
        path=path or "./",
    )
    dest = replace(template, image_data_store=to, path=None)
    rig.refused(st.CopyCommand(src=template, dest=dest), "path")
    assert leftovers(rig.fleet) == before


def test_a_symbolic_link_out_of_the_pool_is_refused(rig: Rig, pool: tuple[Any, Path]) -> None:
    to, root = pool
    (root / "sneaky").symlink_to("/etc/passwd")
    rig.refused(st.DeleteCommand(data=volume_on(to, path="sneaky")), "outside its store")
    assert Path("/etc/passwd").exists()


def test_a_network_pool_whose_mount_is_missing_is_refused(rig: Rig, tmp_path: Path) -> None:
    to = pool_to("NetworkFilesystem")
    mount_point = rig.host.storage_site().mount_root / to.uuid
    rig.refused(st.CreateObjectCommand(data=volume_on(to)), "is not mounted")
    mount_point.mkdir(parents=True)  # a bare directory where the mount should be (#8887)
    rig.refused(st.CreateObjectCommand(data=volume_on(to)), "is not mounted")
    rig.refused(st.GetStorageStatsCommand(store=to), "is not mounted")
    assert list(mount_point.iterdir()) == []
    connect(rig, to)
    rig.ok(st.CreateObjectCommand(data=volume_on(to)), st.CreateObjectAnswer)
    assert rig.run(st.DeleteStoragePoolCommand(pool=to)).result
    rig.refused(st.CreateObjectCommand(data=volume_on(to)), "is not mounted")


def test_a_template_with_a_backing_file_on_a_store_is_refused(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    hostile = tmp_path / "hostile.qcow2"
    qemu_img.QemuImg().create(
        hostile, "qcow2", MIB, backing=Path("/etc/hostname"), backing_fmt="raw"
    )
    template = template_on(store, hostile)
    dest = replace(template, image_data_store=to, path=None)
    rig.refused(st.CopyCommand(src=template, dest=dest), "backing file")
    assert leftovers(root) == []


def test_a_qcow2_shrink_is_refused_and_a_grow_reports_the_new_size(
    rig: Rig, pool: tuple[Any, Path]
) -> None:
    to, _ = pool
    made = rig.ok(st.CreateObjectCommand(data=volume_on(to)), st.CreateObjectAnswer).data
    grown = rig.ok(st.ResizeVolumeCommand(volume=made, new_size=12 * MIB), st.ResizeVolumeAnswer)
    assert grown.new_size == 12 * MIB
    rig.refused(st.ResizeVolumeCommand(volume=made, new_size=4 * MIB), "shrinking a qcow2")


@pytest.mark.parametrize(
    ("fmt", "provisioning", "laid_out"),
    [
        (st.ImageFormat.RAW, st.ProvisioningType.FAT, True),
        (st.ImageFormat.QCOW2, st.ProvisioningType.FAT, True),
        (st.ImageFormat.RAW, st.ProvisioningType.THIN, False),
    ],
)
def test_a_grown_volume_keeps_its_provisioning(
    rig: Rig,
    pool: tuple[Any, Path],
    fmt: st.ImageFormat,
    provisioning: st.ProvisioningType,
    laid_out: bool,
) -> None:
    """The grown part of a FAT volume is allocated like the rest; a THIN one stays sparse."""
    to, root = pool
    volume = volume_on(to, size=4 * MIB, format=fmt, provisioning_type=provisioning)
    made = rig.ok(st.CreateObjectCommand(data=volume), st.CreateObjectAnswer).data
    grown = rig.ok(st.ResizeVolumeCommand(volume=made, new_size=16 * MIB), st.ResizeVolumeAnswer)
    assert grown.new_size == 16 * MIB
    allocated = (root / str(made.path)).stat().st_blocks * 512
    assert (allocated >= 16 * MIB) is laid_out, allocated


def test_attach_and_detach_are_recorded(rig: Rig, pool: tuple[Any, Path]) -> None:
    to, root = pool
    made = rig.ok(st.CreateObjectCommand(data=volume_on(to)), st.CreateObjectAnswer).data
    disk = st.DiskTO(data=made, disk_seq=1, type="DATADISK")
    attached = rig.ok(st.AttachCommand(disk=disk, vm_name="i-2-9-VM"), st.AttachAnswer)
    assert attached.disk.path == made.path
    assert rig.host.attached.disks == {"i-2-9-VM": {1: (root / made.path).resolve()}}
    rig.ok(st.DettachCommand(disk=disk, vm_name="i-2-9-VM"), st.DettachAnswer)
    assert rig.host.attached.disks == {}
    missing = st.DiskTO(data=replace(made, path="nothing-here"), disk_seq=2, type="DATADISK")
    rig.refused(st.AttachCommand(disk=missing, vm_name="i-2-9-VM"), "is not on pool")


# --- cancel and a full disk ----------------------------------------------------------------


def _cancel_on_first_progress(rig: Rig, command: messages.Command) -> messages.Answer:
    def report(progress: messages.Progress) -> None:
        rig.run(messages_cancel(progress.command_id))

    return rig.run(command, report)


def messages_cancel(command_id: str) -> messages.Command:
    from cirrostack.protocol import commands

    return commands.CancelCommand(command_id=command_id)


@pytest.mark.parametrize("fmt", [st.ImageFormat.RAW, st.ImageFormat.QCOW2])
def test_a_copy_cancelled_midway_leaves_nothing(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path, fmt: st.ImageFormat
) -> None:
    to, root = pool
    source = image(tmp_path, fmt.value.lower(), size=64 * MIB, data=24)
    template = template_on(store, source, fmt)
    dest = replace(template, image_data_store=to, path=None)
    answer = _cancel_on_first_progress(rig, st.CopyCommand(src=template, dest=dest))
    assert isinstance(answer, answers.CancelledAnswer), answer
    assert leftovers(root) == []
    assert rig.host.running() == []


@pytest.fixture
def tiny_pool(rig: Rig) -> Iterator[tuple[st.PrimaryDataStoreTO, Path]]:
    """A Filesystem pool on a 1 MiB tmpfs (needs root, as this machine's tests run)."""
    to = pool_to("Filesystem", "tiny")
    root = rig.host.storage_site().local_root / to.path.lstrip("/")
    root.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield to, connect(rig, to)
    finally:
        subprocess.run(["umount", str(root)], check=False)


def test_a_full_pool_answers_insufficient_space_and_keeps_nothing(
    rig: Rig, tiny_pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = tiny_pool
    fat = volume_on(
        to, size=4 * MIB, format=st.ImageFormat.RAW, provisioning_type=st.ProvisioningType.FAT
    )
    details = rig.refused(st.CreateObjectCommand(data=fat), f"insufficient space on pool {to.uuid}")
    assert leftovers(root) == []
    template = template_on(store, image(tmp_path, "raw", size=4 * MIB, data=4), st.ImageFormat.RAW)
    dest = replace(template, image_data_store=to, path=None)
    rig.refused(st.CopyCommand(src=template, dest=dest), f"insufficient space on pool {to.uuid}")
    assert leftovers(root) == [], details


def test_two_copies_of_one_template_at_once_both_make_it_whole(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    source = image(tmp_path, "raw", size=32 * MIB, data=16)
    template = template_on(store, source, st.ImageFormat.RAW)
    dest = replace(template, image_data_store=to, path=None)
    results: list[messages.Answer] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(rig.run(st.CopyCommand(src=template, dest=dest)))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [answer.result for answer in results] == [True, True], results
    assert (root / template.uuid).read_bytes() == source.read_bytes()
    assert leftovers(root) == [template.uuid]


def test_an_upload_cancelled_midway_leaves_no_object_and_no_open_multipart_upload(
    rig: Rig, pool: tuple[Any, Path], s3: s3_server.Endpoint, tmp_path: Path
) -> None:
    to, root = pool
    source = image(tmp_path, "raw", size=32 * MIB, data=32)
    (root / "big.raw").write_bytes(source.read_bytes())
    volume = volume_on(to, path="big.raw", format=st.ImageFormat.RAW)
    bucket = s3.bucket()
    dest = replace(
        volume, data_store=s3.store_to(bucket, max_single_upload_bytes=6 * MIB), path=None
    )
    answer = _cancel_on_first_progress(rig, st.CopyCommand(src=volume, dest=dest))
    assert isinstance(answer, answers.CancelledAnswer), answer
    client = s3.client()
    assert client.list_objects_v2(Bucket=bucket).get("Contents", []) == []
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    staging = rig.host.storage_site().staging
    assert not staging.exists() or list(staging.iterdir()) == []


def test_a_volume_made_straight_from_an_image_store_template_has_the_volumes_size(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    source = image(tmp_path)
    template = template_on(store, source)
    volume = volume_on(to, size=64 * MIB)
    made = rig.ok(st.CopyCommand(src=template, dest=volume), st.CopyCmdAnswer).new_data
    assert (made.path, made.size, made.format) == (volume.uuid, 64 * MIB, st.ImageFormat.QCOW2)
    assert info(root / volume.uuid).virtual_size == 64 * MIB


def test_a_full_clone_cancelled_midway_leaves_nothing(
    rig: Rig, pool: tuple[Any, Path], tmp_path: Path
) -> None:
    to, root = pool
    source = image(tmp_path, size=256 * MIB, data=96)
    template = st.TemplateObjectTO(
        uuid=str(uuid.uuid4()),
        id=3,
        name="t3",
        format=st.ImageFormat.QCOW2,
        image_data_store=to,
        path="copy-of-t3",
    )
    (root / "copy-of-t3").write_bytes(source.read_bytes())
    volume = volume_on(to, provisioning_type=st.ProvisioningType.SPARSE)
    answer = _cancel_on_first_progress(rig, st.CopyCommand(src=template, dest=volume))
    assert isinstance(answer, answers.CancelledAnswer), answer
    assert leftovers(root) == ["copy-of-t3"]


def test_a_raw_template_posing_as_another_format_is_refused(
    rig: Rig, pool: tuple[Any, Path], store: Store, tmp_path: Path
) -> None:
    to, root = pool
    template = template_on(store, image(tmp_path, size=4 * MIB, data=1), st.ImageFormat.RAW)
    dest = replace(template, image_data_store=to, path=None)
    rig.refused(st.CopyCommand(src=template, dest=dest), "qcow2")
    assert leftovers(root) == []


def test_a_snapshot_of_a_stopped_volume_is_a_full_qcow2_on_the_pool(
    rig: Rig, pool: tuple[Any, Path]
) -> None:
    to, root = pool
    made = rig.ok(st.CreateObjectCommand(data=volume_on(to)), st.CreateObjectAnswer).data
    snapshot = st.SnapshotObjectTO(
        uuid=str(uuid.uuid4()), id=4, name="snap", volume=made, data_store=to
    )
    taken = rig.ok(st.CreateObjectCommand(data=snapshot), st.CreateObjectAnswer).data
    assert taken.path.startswith("snapshots/") and taken.physical_size > 0
    assert info(root / taken.path).virtual_size == 8 * MIB
    assert rig.run(st.DeleteCommand(data=taken)).result
    assert not (root / taken.path).exists()


def test_a_volume_becomes_a_template_on_an_image_store(
    rig: Rig, pool: tuple[Any, Path], store: Store
) -> None:
    to, _ = pool
    made = rig.ok(st.CreateObjectCommand(data=volume_on(to)), st.CreateObjectAnswer).data
    template = st.TemplateObjectTO(
        uuid=str(uuid.uuid4()),
        id=301,
        name="301-2-from-vol",
        format=st.ImageFormat.QCOW2,
        image_data_store=store.to,
        account_id=2,
    )
    copied = rig.ok(st.CopyCommand(src=made, dest=template), st.CopyCmdAnswer).new_data
    assert copied.path.startswith("template/tmpl/2/301/") and copied.size == 8 * MIB
    assert store.get(copied.path) is not None
    if isinstance(store.to, st.NfsTO):
        properties = store.get("template/tmpl/2/301/template.properties").decode()
        assert "uniquename=301-2-from-vol" in properties and "virtualsize=8388608" in properties
