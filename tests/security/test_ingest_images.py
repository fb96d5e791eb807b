"""Images a user might upload to read the host's files, served over real HTTP and validated.

Each image is made with the real qemu-img (or written byte by byte where it must be malformed),
served by a loopback server, downloaded with ``ingest.download`` and judged by
``ingest.validate``: the good ones pass with what qemu-img says of them, the others are refused
with a message naming the reason.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cirrostack.agent import ingest
from cirrostack.agent import qemu_img as qi
from tests.security import ingest_server
from tests.security.ingest_server import Route

LOOPBACK = ("127.0.0.0/8",)
MiB = 1024 * 1024


def _qemu_img_cli(*args: str) -> None:
    """qemu-img options the wrapper deliberately does not offer (data files, encryption)."""
    binary = qi.find()
    assert binary is not None
    subprocess.run([binary, *args], check=True, capture_output=True)


def _good_qcow2(wrapper: qi.QemuImg, where: Path) -> bytes:
    wrapper.create(where / "good.qcow2", "qcow2", 16 * MiB)
    return (where / "good.qcow2").read_bytes()


def _with_backing(wrapper: qi.QemuImg, where: Path) -> bytes:
    child = where / "backed.qcow2"
    wrapper.create(child, "qcow2", None, backing=Path("/etc/passwd"), backing_fmt="raw")
    return child.read_bytes()


def _with_data_file(wrapper: qi.QemuImg, where: Path) -> bytes:
    image = where / "data.qcow2"
    _qemu_img_cli("create", "-f", "qcow2", "-o", f"data_file={where / 'd.raw'}", str(image), "1M")
    return image.read_bytes()


def _encrypted(wrapper: qi.QemuImg, where: Path) -> bytes:
    image = where / "enc.qcow2"
    _qemu_img_cli(
        "create", "-f", "qcow2", "--object", "secret,id=s0,data=abc",
        "-o", "encrypt.format=aes,encrypt.key-secret=s0", str(image), "1M",
    )  # fmt: skip
    return image.read_bytes()


def _unknown_feature(wrapper: qi.QemuImg, where: Path) -> bytes:
    image = bytearray(_good_qcow2(wrapper, where))
    image[72 + 6] |= 0x04  # incompatible feature bit 10 (big-endian u64 at 72)
    return bytes(image)


def _raw_bytes(wrapper: qi.QemuImg, where: Path) -> bytes:
    return b"\x00" * 4096 + b"plain disk bytes" * 1024


def _vmdk_descriptor(wrapper: qi.QemuImg, where: Path) -> bytes:
    text = '# Disk DescriptorFile\nversion=1\nRW 8 FLAT "/etc/shadow" 0\n'
    return text.encode().ljust(4096, b"\x00")


def _iso(wrapper: qi.QemuImg, where: Path) -> bytes:
    image = bytearray(64 * 1024)
    image[32769:32774] = b"CD001"
    return bytes(image)


Maker = Callable[[qi.QemuImg, Path], bytes]

REFUSED: list[tuple[str, Maker, str, str]] = [
    ("backing-file", _with_backing, "QCOW2", "backing file"),
    ("data-file", _with_data_file, "QCOW2", "external data file"),
    ("encrypted", _encrypted, "QCOW2", "encrypted"),
    ("unknown-feature", _unknown_feature, "QCOW2", "unknown incompatible feature bit 10"),
    ("raw-as-qcow2", _raw_bytes, "QCOW2", "is not qcow2"),
    ("qcow2-as-raw", _good_qcow2, "RAW", "begins with a qcow2 header"),
    ("backed-qcow2-as-raw", _with_backing, "RAW", "begins with a qcow2 header"),
    ("vmdk-as-raw", _vmdk_descriptor, "RAW", "begins with a vmdk header"),
    ("qcow2-as-iso", _good_qcow2, "ISO", "begins with a qcow2 header"),
    ("raw-as-iso", _raw_bytes, "ISO", "no ISO 9660 signature"),
    ("vmdk-declared", _vmdk_descriptor, "VMDK", "not accepted"),
]


@pytest.fixture
def server() -> Iterator[ingest_server.Server]:
    with ingest_server.serving() as running:
        yield running


def _fetched(server: ingest_server.Server, tmp_path: Path, name: str, body: bytes) -> Path:
    server.routes[f"/{name}"] = Route(body)
    store = tmp_path / "store"
    store.mkdir(exist_ok=True)
    got = ingest.download(f"{server.base}/{name}", store / name, allowed_internal=LOOPBACK)
    return got.path


@pytest.mark.parametrize(("name", "make", "declared", "reason"), REFUSED)
def test_a_dangerous_image_is_refused(
    qemu_img: qi.QemuImg,
    server: ingest_server.Server,
    tmp_path: Path,
    name: str,
    make: Maker,
    declared: str,
    reason: str,
) -> None:
    path = _fetched(server, tmp_path, name, make(qemu_img, tmp_path))
    with pytest.raises(qi.Refused, match=reason):
        ingest.validate(path, declared, qemu=qemu_img)


def test_a_good_qcow2_passes(
    qemu_img: qi.QemuImg, server: ingest_server.Server, tmp_path: Path
) -> None:
    path = _fetched(server, tmp_path, "good.qcow2", _good_qcow2(qemu_img, tmp_path))
    info = ingest.validate(path, "QCOW2", qemu=qemu_img)
    assert info.format == "qcow2" and info.virtual_size == 16 * MiB
    assert info.backing_file is None and info.data_file is None


def test_good_raw_and_iso_pass(
    qemu_img: qi.QemuImg, server: ingest_server.Server, tmp_path: Path
) -> None:
    raw = _fetched(server, tmp_path, "disk.raw", _raw_bytes(qemu_img, tmp_path))
    iso = _fetched(server, tmp_path, "boot.iso", _iso(qemu_img, tmp_path))
    assert ingest.validate(raw, "RAW", qemu=qemu_img).format == "raw"
    assert ingest.validate(iso, "ISO", qemu=qemu_img).virtual_size == 64 * 1024


def test_a_virtual_size_over_the_bound_is_refused(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    qemu_img.create(tmp_path / "huge.qcow2", "qcow2", 1024**4)  # 1 TiB in a few hundred KiB
    with pytest.raises(qi.Refused, match="virtual size"):
        ingest.validate(tmp_path / "huge.qcow2", "QCOW2", qemu=qemu_img, max_virtual_size=MiB)


def test_a_truncated_qcow2_is_refused(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    image = tmp_path / "cut.qcow2"
    image.write_bytes(_good_qcow2(qemu_img, tmp_path)[:100])
    with pytest.raises(qi.Refused, match="cannot read the image as QCOW2"):
        ingest.validate(image, "QCOW2", qemu=qemu_img)
