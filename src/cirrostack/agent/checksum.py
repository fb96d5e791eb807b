"""Checksums as CloudStack writes them: ``{ALGO}hex``, or bare hex meaning MD5 (DigestHelper)."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from cirrostack.agent import ingest_errors

#: CloudStack's algorithm names, hashlib's names and the hex length each digest has.
ALGORITHMS = {
    "MD5": ("md5", 32),
    "SHA-1": ("sha1", 40),
    "SHA-224": ("sha224", 56),
    "SHA-256": ("sha256", 64),
    "SHA-384": ("sha384", 96),
    "SHA-512": ("sha512", 128),
}
_FORM = re.compile(r"(?:\{([A-Za-z0-9-]+)\})?([0-9A-Fa-f]+)")


@dataclass(frozen=True)
class Checksum:
    """One declared or computed digest: CloudStack's algorithm name and lower-case hex."""

    algorithm: str
    hexdigest: str

    def __str__(self) -> str:
        return f"{{{self.algorithm}}}{self.hexdigest}"

    def matches(self, other: Checksum) -> bool:
        return self.algorithm == other.algorithm and hmac.compare_digest(
            self.hexdigest, other.hexdigest
        )


def parse(text: str) -> Checksum:
    """``{SHA-256}ab12...`` or bare MD5 hex as a Checksum; BadChecksum when it is neither."""
    found = _FORM.fullmatch(text.strip())
    if found is None:
        raise ingest_errors.BadChecksum(f"checksum {text!r} is not {{ALGO}}hex or bare MD5 hex")
    algorithm = (found.group(1) or "MD5").upper()
    if algorithm not in ALGORITHMS:
        known = ", ".join(ALGORITHMS)
        raise ingest_errors.BadChecksum(f"unknown checksum algorithm {algorithm!r}; use {known}")
    digest = found.group(2).lower()
    if len(digest) != ALGORITHMS[algorithm][1]:
        raise ingest_errors.BadChecksum(
            f"a {algorithm} checksum has {ALGORITHMS[algorithm][1]} hex digits, not {len(digest)}"
        )
    return Checksum(algorithm, digest)


def hasher(algorithm: str) -> hashlib._Hash:
    """A fresh hash object for CloudStack's algorithm name."""
    return hashlib.new(ALGORITHMS[algorithm][0])
