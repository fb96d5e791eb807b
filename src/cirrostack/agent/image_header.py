"""What an image's first bytes say, read by us before qemu-img opens it.

Two questions, both about images a user uploaded:

- does a file declared RAW begin like another format? A "raw" file that is really a qcow2 with
  ``backing_file=/etc/shadow`` (or a VMDK descriptor naming a host file) turns into a host-file
  read the day anything opens it without ``-f raw``; so it is refused at the door;
- is a qcow2 header one we accept? No backing file reference, no external data file, no
  encryption, no corrupt bit and no incompatible feature bit we do not know (CloudStack's
  SSVM checks the same, storage reference 5.4).

The qcow2 header layout is QEMU's docs/interop/qcow2.txt (all fields big-endian).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

QCOW2_MAGIC = b"QFI\xfb"
ISO_SIGNATURE = b"CD001"
ISO_SIGNATURE_OFFSET = 32769  # byte 1 of the primary volume descriptor, sector 16 of 2048

#: Formats recognised by the bytes they begin with (offset, magic), as qemu's probes do.
_MAGICS: tuple[tuple[str, int, bytes], ...] = (
    ("qcow2", 0, QCOW2_MAGIC),
    ("vmdk", 0, b"KDMV"),
    ("vmdk", 0, b"COWD"),
    ("vhd", 0, b"conectix"),
    ("vhdx", 0, b"vhdxfile"),
    ("vdi", 0x40, b"\x7f\x10\xda\xbe"),
    ("qed", 0, b"QED\x00"),
    ("luks", 0, b"LUKS\xba\xbe"),
    ("parallels", 0, b"WithoutFreeSpace"),
    ("parallels", 0, b"WithouFreSpacExt"),
    ("bochs", 0, b"Bochs Virtual HD Image"),
    ("cloop", 0, b"#!/bin/sh\n#V2.0 Format"),
)
#: A VMDK text descriptor may start after comments: looked for anywhere in the first bytes.
_VMDK_DESCRIPTOR = b"# Disk DescriptorFile"
_HEAD = 4096

#: qcow2 incompatible feature bits QEMU 7 knows; corrupt and external data file are refused.
_INCOMPATIBLE_KNOWN = {
    0: "dirty",
    1: "corrupt",
    2: "external data file",
    3: "compression type",
    4: "extended L2 entries",
}
_REFUSED_BITS = frozenset({1, 2})


@dataclass(frozen=True)
class Qcow2Header:
    """The fields of a qcow2 header that decide whether it may be ingested."""

    version: int
    backing_file_offset: int
    crypt_method: int
    incompatible_features: int

    def problems(self) -> list[str]:
        """Why this header is refused, in words; empty when it is acceptable."""
        found = []
        if self.version not in (2, 3):
            found.append(f"qcow2 version {self.version} is not 2 or 3")
        if self.backing_file_offset:
            found.append("it names a backing file")
        if self.crypt_method:
            found.append("it is encrypted")
        for bit in range(64):
            if self.incompatible_features >> bit & 1:
                if bit in _REFUSED_BITS:
                    found.append(f"it has the {_INCOMPATIBLE_KNOWN[bit]} feature")
                elif bit not in _INCOMPATIBLE_KNOWN:
                    found.append(f"it has the unknown incompatible feature bit {bit}")
        return found


def read_head(path: Path, size: int = _HEAD) -> bytes:
    with path.open("rb") as image:
        return image.read(size)


def sniff(head: bytes) -> str | None:
    """The image format ``head`` (a file's first bytes) begins like, or None for plain bytes."""
    for name, offset, magic in _MAGICS:
        if head[offset : offset + len(magic)] == magic:
            return name
    if _VMDK_DESCRIPTOR in head:
        return "vmdk"
    return None


def parse_qcow2(head: bytes) -> Qcow2Header | None:
    """The qcow2 header at the start of ``head``, or None when ``head`` is not qcow2."""
    if len(head) < 72 or head[:4] != QCOW2_MAGIC:
        return None
    version, backing_offset = struct.unpack_from(">IQ", head, 4)
    (crypt_method,) = struct.unpack_from(">I", head, 32)
    incompatible = 0
    if version >= 3:
        if len(head) < 80:
            return None
        (incompatible,) = struct.unpack_from(">Q", head, 72)
    return Qcow2Header(version, backing_offset, crypt_method, incompatible)


def is_iso9660(path: Path) -> bool:
    """Whether the file carries the ISO 9660 signature of a primary volume descriptor."""
    with path.open("rb") as image:
        image.seek(ISO_SIGNATURE_OFFSET)
        return image.read(len(ISO_SIGNATURE)) == ISO_SIGNATURE
