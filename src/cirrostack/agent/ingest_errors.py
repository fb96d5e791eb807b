"""Errors of bringing an image into cirrostack from a URL (``agent.ingest``).

    IngestError
     ├── UrlRefused        the URL may not be fetched: scheme, user info, characters, or an
     │                     address that is loopback/private/link-local/... and not allowed
     ├── BadSetting        an allowed-internal CIDR that cannot be used (0.0.0.0/0, garbage)
     ├── BadChecksum       a checksum string that is not ``{ALGO}hex`` or bare MD5 hex
     ├── DownloadFailed    the server's answer cannot be used: a status, a broken connection
     │    └── Redirected   a 3xx answer: redirects are never followed (CVE-2024-29007)
     ├── TooLarge          more bytes than the bound, announced or read
     ├── NoSpace           the destination filled up (ENOSPC, EDQUOT)
     ├── ChecksumMismatch  the bytes do not hash to the declared checksum
     ├── DownloadInactive  no byte arrived for ``inactivity`` seconds
     └── DownloadCancelled the cancel event was set

An image refused after download (a backing file, a raw posing as qcow2) is
``qemu_img.Refused``. Every message says what was refused and why, without secrets.
"""

from __future__ import annotations

from cirrostack.agent import errors


class IngestError(errors.AgentError):
    """Root of what ``agent.ingest`` raises about URLs and downloads."""


class UrlRefused(IngestError, ValueError):
    """The URL is not one the agent fetches; the message says which rule refused it."""


class BadSetting(IngestError, ValueError):
    """An allowed-internal CIDR that cannot be used."""


class BadChecksum(IngestError, ValueError):
    """A checksum not written as ``{ALGO}hex`` (MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512)."""


class DownloadFailed(IngestError):
    """The download did not complete; nothing was left at the destination."""


class Redirected(DownloadFailed):
    """The server answered a redirect, which is never followed."""


class TooLarge(IngestError):
    """The image is larger than allowed; nothing was kept."""


class NoSpace(IngestError):
    """The destination has no room for the download; nothing was kept."""


class ChecksumMismatch(IngestError):
    """The downloaded bytes do not match the declared checksum; the file was removed."""


class DownloadInactive(IngestError):
    """The server sent nothing for the allowed time."""


class DownloadCancelled(IngestError):
    """The download was cancelled; the partial file was removed."""
