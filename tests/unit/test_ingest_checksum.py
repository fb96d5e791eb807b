"""Checksums as CloudStack writes them ({ALGO}hex, bare hex = MD5) and image header reading."""

from __future__ import annotations

import struct

import pytest

from cirrostack.agent import checksum, image_header, ingest_errors


@pytest.mark.parametrize(
    ("text", "algorithm"),
    [
        ("a" * 32, "MD5"),
        ("{MD5}" + "A" * 32, "MD5"),
        ("{sha-1}" + "b" * 40, "SHA-1"),
        ("{SHA-224}" + "c" * 56, "SHA-224"),
        ("{SHA-256}" + "d" * 64, "SHA-256"),
        ("{SHA-384}" + "e" * 96, "SHA-384"),
        ("{SHA-512}" + "f" * 128, "SHA-512"),
    ],
)
def test_every_cloudstack_algorithm_is_read(text: str, algorithm: str) -> None:
    parsed = checksum.parse(text)
    assert parsed.algorithm == algorithm and parsed.hexdigest == parsed.hexdigest.lower()
    assert str(parsed) == f"{{{algorithm}}}{parsed.hexdigest}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is not"),
        ("{SHA-256}", "is not"),
        ("{SHA256}" + "a" * 64, "unknown checksum algorithm"),
        ("{SHA-256}" + "a" * 63, "64 hex digits"),
        ("a" * 64, "32 hex digits"),
        ("{MD5}" + "z" * 32, "is not"),
    ],
)
def test_malformed_checksums_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ingest_errors.BadChecksum, match=reason):
        checksum.parse(text)


def test_checksums_match_only_with_the_same_algorithm() -> None:
    md5 = checksum.Checksum("MD5", "ab" * 16)
    assert md5.matches(checksum.parse("AB" * 16))
    assert not md5.matches(checksum.Checksum("MD5", "cd" * 16))
    assert not md5.matches(checksum.Checksum("SHA-1", "ab" * 16))


def _qcow2(version: int = 3, backing: int = 0, crypt: int = 0, incompatible: int = 0) -> bytes:
    head = bytearray(4096)
    head[0:4] = image_header.QCOW2_MAGIC
    struct.pack_into(">IQ", head, 4, version, backing)
    struct.pack_into(">I", head, 32, crypt)
    struct.pack_into(">Q", head, 72, incompatible)
    return bytes(head)


def test_a_plain_qcow2_header_has_no_problems() -> None:
    header = image_header.parse_qcow2(_qcow2(incompatible=0b11001))  # dirty, compression, L2
    assert header is not None and header.problems() == []


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (_qcow2(backing=512), "backing file"),
        (_qcow2(crypt=1), "encrypted"),
        (_qcow2(incompatible=1 << 1), "corrupt"),
        (_qcow2(incompatible=1 << 2), "external data file"),
        (_qcow2(incompatible=1 << 40), "unknown incompatible feature bit 40"),
        (_qcow2(version=4), "version 4"),
    ],
)
def test_refused_qcow2_headers_say_why(head: bytes, problem: str) -> None:
    header = image_header.parse_qcow2(head)
    assert header is not None and any(problem in text for text in header.problems())


def test_a_version_2_header_has_no_feature_bits() -> None:
    header = image_header.parse_qcow2(_qcow2(version=2, incompatible=1 << 40))
    assert header is not None and header.problems() == []


def test_what_is_not_qcow2_has_no_header() -> None:
    assert image_header.parse_qcow2(b"\x00" * 4096) is None
    assert image_header.parse_qcow2(image_header.QCOW2_MAGIC + b"\x00" * 10) is None


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (_qcow2(), "qcow2"),
        (b"KDMV" + bytes(508), "vmdk"),
        (b"\n\n# Disk DescriptorFile\n", "vmdk"),
        (b"conectix" + bytes(504), "vhd"),
        (b"vhdxfile" + bytes(504), "vhdx"),
        (bytes(64) + b"\x7f\x10\xda\xbe" + bytes(444), "vdi"),
        (b"QED\x00" + bytes(508), "qed"),
        (b"LUKS\xba\xbe" + bytes(506), "luks"),
    ],
)
def test_formats_are_recognised_by_their_first_bytes(head: bytes, name: str) -> None:
    assert image_header.sniff(head) == name


def test_plain_bytes_are_no_format() -> None:
    assert image_header.sniff(bytes(4096)) is None and image_header.sniff(b"") is None
