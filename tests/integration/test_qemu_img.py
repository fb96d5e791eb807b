"""The qemu-img wrapper against the real qemu-img, and its process runner against real processes."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from cirrostack.agent import limited_run
from cirrostack.agent import qemu_img as qi

MiB = 1024 * 1024


def _raw_with_data(path: Path, size: int, data: int) -> None:
    """A sparse raw image of ``size`` bytes whose first ``data`` bytes are not zero (one random
    MiB repeated: qemu-img copies it all the same)."""
    block = os.urandom(MiB)
    with path.open("wb") as image:
        image.truncate(size)
        for _ in range(data // MiB):
            image.write(block)


def test_create_then_info(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    qemu_img.create(tmp_path / "v.qcow2", "qcow2", 64 * MiB)
    info = qemu_img.info(tmp_path / "v.qcow2", "qcow2")
    assert info.format == "qcow2" and info.virtual_size == 64 * MiB
    assert info.cluster_size == 65536 and info.backing_file is None and not info.encrypted


def test_a_child_records_its_backing_file_and_format(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    qemu_img.create(tmp_path / "base.raw", "raw", 4 * MiB)
    qemu_img.create(
        tmp_path / "child", "qcow2", None, backing=tmp_path / "base.raw", backing_fmt="raw"
    )
    info = qemu_img.info(tmp_path / "child", "qcow2")
    assert info.backing_file == str(tmp_path / "base.raw") and info.backing_format == "raw"
    assert info.virtual_size == 4 * MiB


def test_info_with_the_wrong_format_says_so(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    qemu_img.create(tmp_path / "v.raw", "raw", MiB)
    with pytest.raises(qi.QemuImgError, match="not in qcow2 format") as caught:
        qemu_img.info(tmp_path / "v.raw", "qcow2")
    assert "\n" not in str(caught.value) and not str(caught.value).startswith("qemu-img:")


def test_a_missing_file_is_a_clear_error(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    with pytest.raises(qi.QemuImgError, match="No such file"):
        qemu_img.info(tmp_path / "nothing", "raw")


def test_preallocation_reaches_qemu_img(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    qemu_img.create(tmp_path / "full.raw", "raw", 2 * MiB, preallocation="full")
    assert (tmp_path / "full.raw").stat().st_blocks * 512 >= 2 * MiB


def test_convert_reports_progress_in_bytes_and_copies(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    src, dest = tmp_path / "src.raw", tmp_path / "dest.qcow2"
    _raw_with_data(src, 300 * MiB, 64 * MiB)
    seen: list[tuple[int, int]] = []
    qemu_img.convert(src, "raw", dest, "qcow2", progress=lambda d, t: seen.append((d, t)))
    assert len(seen) > 5, seen
    assert all(total == 300 * MiB for _, total in seen)
    assert [done for done, _ in seen] == sorted({done for done, _ in seen})
    assert seen[-1] == (300 * MiB, 300 * MiB)
    assert qemu_img.info(dest, "qcow2").virtual_size == 300 * MiB
    assert qemu_img.compare(src, "raw", dest, "qcow2")


def test_convert_into_raw_in_parallel_and_not(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    src = tmp_path / "src.raw"
    _raw_with_data(src, 8 * MiB, 2 * MiB)
    qemu_img.convert(src, "raw", tmp_path / "a.raw", "raw")
    qemu_img.convert(src, "raw", tmp_path / "b.raw", "raw", parallel=False)
    assert qemu_img.compare(tmp_path / "a.raw", "raw", tmp_path / "b.raw", "raw")


def test_a_cancelled_convert_is_killed(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    src = tmp_path / "src.raw"
    _raw_with_data(src, 64 * MiB, 32 * MiB)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(qi.Cancelled, match="convert was cancelled"):
        qemu_img.convert(src, "raw", tmp_path / "dest.qcow2", "qcow2", cancel=cancel)


def test_a_convert_cancelled_while_running_stops(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    src = tmp_path / "src.raw"
    _raw_with_data(src, 256 * MiB, 128 * MiB)
    cancel = threading.Event()
    seen: list[int] = []

    def cancel_once_started(done: int, total: int) -> None:
        seen.append(done)
        if done > 0:
            cancel.set()

    with pytest.raises(qi.Cancelled):
        qemu_img.convert(
            src, "raw", tmp_path / "d.qcow2", "qcow2", progress=cancel_once_started, cancel=cancel
        )
    assert seen and seen[-1] < 256 * MiB


def test_resize_grows_and_shrinks_only_when_asked(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    image = tmp_path / "v.raw"
    qemu_img.create(image, "raw", 4 * MiB)
    qemu_img.resize(image, "raw", 8 * MiB)
    assert qemu_img.info(image, "raw").virtual_size == 8 * MiB
    with pytest.raises(qi.QemuImgError, match="shrink"):
        qemu_img.resize(image, "raw", 2 * MiB)
    qemu_img.resize(image, "raw", 2 * MiB, shrink=True)
    assert qemu_img.info(image, "raw").virtual_size == 2 * MiB


def test_compare_sees_a_difference(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    _raw_with_data(tmp_path / "a.raw", 2 * MiB, MiB)
    _raw_with_data(tmp_path / "b.raw", 2 * MiB, MiB)
    assert not qemu_img.compare(tmp_path / "a.raw", "raw", tmp_path / "b.raw", "raw")
    assert qemu_img.compare(tmp_path / "a.raw", "raw", tmp_path / "a.raw", "raw")


def test_check_passes_a_sound_image(qemu_img: qi.QemuImg, tmp_path: Path) -> None:
    qemu_img.create(tmp_path / "v.qcow2", "qcow2", MiB)
    assert qemu_img.check(tmp_path / "v.qcow2", "qcow2")


def test_the_address_space_limit_reaches_qemu_img(tmp_path: Path) -> None:
    if qi.find() is None:
        pytest.skip("qemu-img is not installed")
    starved = qi.QemuImg(limits=qi.Limits(address_space=16 * MiB))
    with pytest.raises(qi.QemuImgError):
        starved.create(tmp_path / "v.qcow2", "qcow2", MiB)
    assert not (tmp_path / "v.qcow2").exists()


def test_a_missing_binary_is_its_own_error(tmp_path: Path) -> None:
    broken = qi.QemuImg(binary=str(tmp_path / "no-qemu-img"))
    with pytest.raises(qi.QemuImgError, match="could not be started"):
        broken.info(tmp_path / "v", "raw")


# --- the runner beneath it, with real processes -----------------------------------------------


def test_a_silent_process_is_killed_for_inactivity() -> None:
    started = time.monotonic()
    outcome = limited_run.run(
        ["sleep", "30"], cpu_seconds=10, address_space=256 * MiB, inactivity=0.5
    )
    assert outcome.stopped is limited_run.Stop.INACTIVE and outcome.returncode < 0
    assert time.monotonic() - started < 5


def test_output_keeps_a_slow_process_alive() -> None:
    script = "import time\nfor i in range(6):\n    print(i, flush=True); time.sleep(0.2)\n"
    lines: list[str] = []
    outcome = limited_run.run(
        [sys.executable, "-c", script],
        cpu_seconds=10,
        address_space=1024 * MiB,
        inactivity=0.6,
        on_line=lines.append,
    )
    assert outcome.stopped is None and outcome.returncode == 0
    assert lines == ["0", "1", "2", "3", "4", "5"]


def test_cancel_kills_a_running_process() -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    outcome = limited_run.run(
        ["sleep", "30"], cpu_seconds=10, address_space=256 * MiB, inactivity=None, cancel=cancel
    )
    assert outcome.stopped is limited_run.Stop.CANCELLED
    assert time.monotonic() - started < 5


def test_limits_are_set_in_the_child() -> None:
    script = (
        "import resource as r\nprint(r.getrlimit(r.RLIMIT_CPU)[0], r.getrlimit(r.RLIMIT_AS)[0])"
    )
    outcome = limited_run.run(
        [sys.executable, "-c", script], cpu_seconds=7, address_space=1024 * MiB, inactivity=10
    )
    assert outcome.stdout.split() == ["7", str(1024 * MiB)]


def test_the_child_gets_a_c_locale_and_no_stdin() -> None:
    script = "import os, sys\nprint(os.environ.get('LC_ALL'), sys.stdin.read() == '')"
    outcome = limited_run.run(
        [sys.executable, "-c", script], cpu_seconds=7, address_space=1024 * MiB, inactivity=10
    )
    assert outcome.stdout.split() == ["C", "True"]
