"""The pure parts of the qemu-img wrapper: progress lines, JSON answers, error messages."""

from __future__ import annotations

import json

import pytest

from cirrostack.agent import qemu_img


@pytest.mark.parametrize(
    ("line", "percent"),
    [("    (0.00/100%)", 0.0), ("    (12.34/100%)", 12.34), ("(100.00/100%)", 100.0)],
)
def test_progress_lines_are_read(line: str, percent: float) -> None:
    assert qemu_img.parse_progress(line) == percent


@pytest.mark.parametrize("line", ["", "Formatting 'a'", "(12.34/50%)", "12.34%"])
def test_other_lines_are_not_progress(line: str) -> None:
    assert qemu_img.parse_progress(line) is None


def test_progress_becomes_bytes_and_never_goes_back() -> None:
    seen: list[tuple[int, int]] = []
    on_line = qemu_img._progress_lines(lambda done, total: seen.append((done, total)), 1000)
    for line in ["(0.00/100%)", "(50.00/100%)", "(40.00/100%)", "noise", "(100.00/100%)"]:
        on_line(line)
    assert seen == [(0, 1000), (500, 1000), (1000, 1000)]


QCOW2_WITH_EVERYTHING = {
    "virtual-size": 10485760,
    "filename": "a.qcow2",
    "cluster-size": 65536,
    "format": "qcow2",
    "actual-size": 200704,
    "backing-filename": "/etc/passwd",
    "backing-filename-format": "raw",
    "format-specific": {"type": "qcow2", "data": {"data-file": "/tmp/d.raw", "encrypt": {}}},
    "dirty-flag": True,
}


def test_info_json_is_parsed_into_the_typed_result() -> None:
    info = qemu_img.parse_info(json.dumps(QCOW2_WITH_EVERYTHING))
    assert info == qemu_img.ImageInfo(
        format="qcow2",
        virtual_size=10485760,
        actual_size=200704,
        backing_file="/etc/passwd",
        backing_format="raw",
        data_file="/tmp/d.raw",
        encrypted=True,
        dirty=True,
        cluster_size=65536,
    )


def test_a_plain_raw_image_has_nothing_optional() -> None:
    info = qemu_img.parse_info('{"virtual-size": 5, "format": "raw", "dirty-flag": false}')
    assert info.format == "raw" and info.virtual_size == 5
    assert info.actual_size is None and info.cluster_size is None
    assert info.backing_file is None and info.data_file is None and not info.encrypted


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"format": "raw"}'])
def test_unreadable_info_is_an_error(text: str) -> None:
    with pytest.raises(qemu_img.QemuImgError, match="cannot be read"):
        qemu_img.parse_info(text)


def test_error_output_becomes_one_clean_line() -> None:
    stderr = "qemu-img: Could not open 'x': Image is not in qcow2 format\nqemu-img: more\n"
    assert (
        qemu_img.clean_message(stderr) == "Could not open 'x': Image is not in qcow2 format; more"
    )


def test_no_space_is_its_own_kind() -> None:
    stderr = "qemu-img: error while writing at byte 0: No space left on device\n"
    assert isinstance(qemu_img.error_for(stderr), qemu_img.NoSpace)
    assert type(qemu_img.error_for("qemu-img: other\n")) is qemu_img.QemuImgError


def test_an_empty_error_output_still_says_something() -> None:
    assert qemu_img.clean_message("") == "qemu-img failed without a message"
