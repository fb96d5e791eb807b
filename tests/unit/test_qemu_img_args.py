"""The pure parts of the qemu-img wrapper: arguments it builds and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from cirrostack.agent import qemu_img


def test_info_names_the_format_and_asks_for_json() -> None:
    argv = qemu_img.info_argv(Path("/pool/a.qcow2"), "qcow2")
    assert argv == ["info", "-f", "qcow2", "--output=json", "/pool/a.qcow2"]


def test_info_can_share_an_image_in_use() -> None:
    assert "-U" in qemu_img.info_argv(Path("/pool/a.qcow2"), "qcow2", force_share=True)


def test_create_with_a_backing_file_names_both_formats() -> None:
    argv = qemu_img.create_argv(
        Path("/pool/child"), "qcow2", None, backing=Path("/pool/base"), backing_fmt="raw"
    )
    assert argv == ["create", "-f", "qcow2", "-b", "/pool/base", "-F", "raw", "/pool/child"]


def test_create_with_size_and_preallocation() -> None:
    argv = qemu_img.create_argv(Path("/p/v"), "raw", 1024, preallocation="falloc")
    assert argv == ["create", "-f", "raw", "-o", "preallocation=falloc", "/p/v", "1024"]


def test_create_refuses_a_backing_file_without_its_format() -> None:
    with pytest.raises(qemu_img.UnsafeArgument, match="-F"):
        qemu_img.create_argv(Path("/p/v"), "qcow2", None, backing=Path("/p/b"))


def test_create_refuses_no_size_and_no_backing() -> None:
    with pytest.raises(qemu_img.UnsafeArgument, match="size"):
        qemu_img.create_argv(Path("/p/v"), "qcow2", None)


def test_create_refuses_a_negative_size() -> None:
    with pytest.raises(qemu_img.UnsafeArgument, match="negative"):
        qemu_img.create_argv(Path("/p/v"), "qcow2", -1)


def test_convert_always_reports_progress_and_names_formats() -> None:
    argv = qemu_img.convert_argv(Path("/a"), "qcow2", Path("/b"), "qcow2", parallel=False)
    assert argv == ["convert", "-p", "-f", "qcow2", "-O", "qcow2", "/a", "/b"]


def test_convert_writes_out_of_order_only_into_raw() -> None:
    to_raw = qemu_img.convert_argv(Path("/a"), "qcow2", Path("/b"), "raw")
    to_qcow2 = qemu_img.convert_argv(Path("/a"), "raw", Path("/b"), "qcow2")
    assert to_raw[-4:] == ["-m", "8", "-W", "/a", "/b"][-4:] and "-W" in to_raw
    assert "-W" not in to_qcow2 and "-m" in to_qcow2


def test_resize_shrink_is_explicit() -> None:
    assert qemu_img.resize_argv(Path("/a"), "raw", 10) == ["resize", "-f", "raw", "/a", "10"]
    assert "--shrink" in qemu_img.resize_argv(Path("/a"), "raw", 10, shrink=True)


def test_compare_names_both_formats() -> None:
    argv = qemu_img.compare_argv(Path("/a"), "qcow2", Path("/b"), "raw")
    assert argv == ["compare", "-p", "-f", "qcow2", "-F", "raw", "/a", "/b"]


@pytest.mark.parametrize(
    "path",
    [
        "-rf",
        "/pool/-o",
        "json:{}",
        "nbd://evil/x",
        "/pool/a,b",
        "/pool/a b",
        "/pool/$(id)",
        "/pool/a;b",
        "/pool/a`b`",
        "/pool/a\nb",
        "/pool/é",
    ],
)
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(qemu_img.UnsafeArgument, match="unsafe"):
        qemu_img.safe_path(Path(path))
    with pytest.raises(qemu_img.UnsafeArgument):
        qemu_img.info_argv(Path(path), "raw")


def test_uuid_paths_pass() -> None:
    path = "/var/lib/cirrostack/pool-1/0b8c7d2e-3f4a-4b5c-9d6e-7f8091a2b3c4.qcow2"
    assert qemu_img.safe_path(Path(path)) == path


@pytest.mark.parametrize("fmt", ["", "QCOW2", "qcow2 ", "host_device", "json", "-O"])
def test_unknown_formats_are_refused(fmt: str) -> None:
    with pytest.raises(qemu_img.UnsafeArgument, match="format"):
        qemu_img.info_argv(Path("/a"), fmt)


def test_unknown_preallocation_is_refused() -> None:
    with pytest.raises(qemu_img.UnsafeArgument, match="preallocation"):
        qemu_img.create_argv(Path("/a"), "raw", 1, preallocation="full,backing_file=/etc")
