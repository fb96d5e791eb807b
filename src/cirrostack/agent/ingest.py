"""What an agent does with a template or volume URL: check it, download it, validate the image.

Called by the storage drivers for a DownloadCommand (and uploadVolume's URL) with the install
path the server chose. The three steps, each refusing with a clear error:

1. ``check_url``: the URL may be fetched, resolved once (``agent.url_check``);
2. ``download``: the bytes, streamed to a temporary file beside the destination, bounded in
   size, watched for silence and cancellation, hashed, fsynced, renamed into place; a redirect
   is an error (never followed); on any failure nothing is left behind;
3. ``validate``: the image is what it was declared to be and stands alone (no backing file,
   no external data file, no encryption; a RAW is not another format in disguise).

Errors: ``agent.ingest_errors`` for URLs and downloads, ``qemu_img.Refused`` for images.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cirrostack.agent import checksum as checksum_module
from cirrostack.agent import image_header, ingest_errors, qemu_img, url_check

_CHUNK = 1024 * 1024
_REPORT_EVERY = 0.5
_USER_AGENT = "cirrostack-agent"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Downloaded:
    """A completed download: where it is, its size in bytes and its ``{ALGO}hex`` checksum."""

    path: Path
    size: int
    checksum: str


def check_url(url: str, allowed_internal: Sequence[str]) -> url_check.CheckedUrl:
    """Whether ``url`` may be fetched and at which address; raises UrlRefused (see url_check)."""
    return url_check.check_url(url, allowed_internal)


def download(
    url: str,
    dest: Path,
    *,
    allowed_internal: Sequence[str] = (),
    max_size: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    inactivity: float = 60.0,
    checksum: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Downloaded:
    """Fetch ``url`` into ``dest`` (replaced atomically) and return what was stored.

    ``progress(done, total)`` gets bytes so far of the Content-Length (0 when unknown).
    ``checksum`` is verified when given (``{ALGO}hex`` or bare MD5 hex); otherwise an MD5 is
    computed. ``max_size`` (None: no bound) refuses a larger Content-Length before reading and
    stops reading past it. Raises the ``ingest_errors`` kinds; ``dest`` is untouched then.
    """
    declared = checksum_module.parse(checksum) if checksum else None
    checked = check_url(url, allowed_internal)
    algorithm = declared.algorithm if declared else "MD5"
    with _PartFile.beside(dest) as part:
        size, digest = _fetch(
            checked, part.write, algorithm, max_size, progress, cancel, inactivity, ssl_context
        )
        computed = checksum_module.Checksum(algorithm, digest)
        if declared is not None and not declared.matches(computed):
            raise ingest_errors.ChecksumMismatch(
                f'checksum "{computed}" did not match the given value "{declared}"'
            )
        part.commit()
    return Downloaded(dest, size, str(computed))


class _PartFile:
    """A hidden temporary file beside the destination: renamed into place by ``commit`` after
    an fsync, removed on any other way out. Write failures become IngestErrors."""

    def __init__(self, dest: Path, out: BinaryIO, temp: Path) -> None:
        self._dest, self._out, self._temp = dest, out, temp

    @classmethod
    @contextlib.contextmanager
    def beside(cls, dest: Path) -> Iterator[_PartFile]:
        try:
            fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        except OSError as exc:
            raise write_error(exc, dest.parent) from exc
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                yield cls(dest, out, temp)
        finally:
            temp.unlink(missing_ok=True)  # gone already once committed

    def write(self, chunk: bytes) -> None:
        with self._mapped():
            self._out.write(chunk)

    def commit(self) -> None:
        with self._mapped():
            self._out.flush()
            os.fsync(self._out.fileno())
            os.replace(self._temp, self._dest)
            _fsync_directory(self._dest.parent)

    @contextlib.contextmanager
    def _mapped(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise write_error(exc, self._dest.parent) from exc


def _fetch(
    checked: url_check.CheckedUrl,
    write: Callable[[bytes], None],
    algorithm: str,
    max_size: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
    inactivity: float,
    ssl_context: ssl.SSLContext | None,
) -> tuple[int, str]:
    """Stream the body to ``write``; return its size and hex digest."""
    connection = _connection(checked, inactivity, ssl_context)
    try:
        try:
            connection.connect()
        except (OSError, ssl.SSLError) as exc:
            raise ingest_errors.DownloadFailed(f"cannot connect to {checked.host}: {exc}") from exc
        # The response keeps this socket after the connection lets go of it (Connection: close).
        assert connection.sock is not None
        with _shut_on_cancel(connection.sock, cancel):
            try:
                response = _get(connection, checked)
                total = _expected_length(response, max_size)
                return _stream(response, write, algorithm, total, max_size, progress, cancel)
            except TimeoutError:
                _raise_if_cancelled(cancel)
                raise ingest_errors.DownloadInactive(
                    f"{checked.host} sent nothing for {inactivity:g} s"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                _raise_if_cancelled(cancel)
                raise ingest_errors.DownloadFailed(
                    f"downloading from {checked.host} failed: {exc or type(exc).__name__}"
                ) from exc
    finally:
        connection.close()


def _get(
    connection: http.client.HTTPConnection, checked: url_check.CheckedUrl
) -> http.client.HTTPResponse:
    headers = {
        "Host": checked.host_header,
        "User-Agent": _USER_AGENT,
        "Accept-Encoding": "identity",
        "Connection": "close",
    }
    connection.request("GET", checked.target, headers=headers)
    response = connection.getresponse()
    if 300 <= response.status < 400:
        raise ingest_errors.Redirected(
            f"the server answered {response.status} {response.reason} (a redirect to "
            f"{response.getheader('Location', '?')!r}): redirects are never followed"
        )
    if response.status != 200:
        raise ingest_errors.DownloadFailed(
            f"the server answered {response.status} {response.reason}"
        )
    return response


def _expected_length(response: http.client.HTTPResponse, max_size: int | None) -> int:
    """The announced Content-Length (0 when none); TooLarge before reading when over the bound."""
    announced = response.getheader("Content-Length")
    if announced is None:
        return 0
    if not announced.strip().isdigit():
        raise ingest_errors.DownloadFailed(f"the server sent a Content-Length of {announced!r}")
    length = int(announced)
    if max_size is not None and length > max_size:
        raise ingest_errors.TooLarge(
            f"the server announces {length} bytes; at most {max_size} are allowed"
        )
    return length


def _stream(
    response: http.client.HTTPResponse,
    write: Callable[[bytes], None],
    algorithm: str,
    total: int,
    max_size: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> tuple[int, str]:
    digest = checksum_module.hasher(algorithm)
    report = _throttled(progress, total)
    done = 0
    while chunk := response.read1(_CHUNK):
        done += len(chunk)
        if max_size is not None and done > max_size:
            raise ingest_errors.TooLarge(f"more than the {max_size} bytes allowed were sent")
        digest.update(chunk)
        write(chunk)
        _raise_if_cancelled(cancel)
        report(done, final=False)
    _raise_if_cancelled(cancel)
    if total and done != total:
        raise ingest_errors.DownloadFailed(
            f"the connection closed after {done} of the {total} bytes announced"
        )
    report(done, final=True)
    return done, digest.hexdigest()


def _throttled(progress: Progress | None, total: int) -> Callable[..., None]:
    """Report progress at most every ``_REPORT_EVERY`` seconds, and once at the end: a socket
    read returns a few KiB, and each report may become a message to the server."""
    last = -_REPORT_EVERY

    def report(done: int, *, final: bool) -> None:
        nonlocal last
        now = time.monotonic()
        if progress is not None and (final or now - last >= _REPORT_EVERY):
            last = now
            progress(done, total)

    return report


def write_error(exc: OSError, directory: Path) -> ingest_errors.IngestError:
    """A failure to write the download as the error it means (a full store is its own kind)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ingest_errors.NoSpace(f"no space left in {directory} for the download")
    return ingest_errors.DownloadFailed(f"cannot write the download in {directory}: {exc}")


def _raise_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise ingest_errors.DownloadCancelled("the download was cancelled")


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the name as TLS server name and certificate host."""

    def __init__(self, checked: url_check.CheckedUrl, timeout: float, context: ssl.SSLContext):
        super().__init__(checked.address, checked.port, timeout=timeout, context=context)
        self._name = checked.host
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self._name)


def _connection(
    checked: url_check.CheckedUrl, timeout: float, context: ssl.SSLContext | None
) -> http.client.HTTPConnection:
    """A connection to the checked address (never a second resolution of the name)."""
    if checked.scheme == "https":
        return _PinnedHTTPSConnection(checked, timeout, context or ssl.create_default_context())
    return http.client.HTTPConnection(checked.address, checked.port, timeout=timeout)


@contextlib.contextmanager
def _shut_on_cancel(sock: socket.socket, cancel: threading.Event | None) -> Iterator[None]:
    """Shut the socket down as soon as ``cancel`` is set, waking a read blocked on it."""
    if cancel is None:
        yield
        return
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(0.1):
            if cancel.is_set():
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                return

    watcher = threading.Thread(target=watch, name="download-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- validation ------------------------------------------------------------------------------


def validate(
    path: Path,
    declared_format: str,
    *,
    qemu: qemu_img.QemuImg | None = None,
    max_virtual_size: int | None = None,
) -> qemu_img.ImageInfo:
    """Check that the image at ``path`` is the ``declared_format`` (QCOW2, RAW or ISO) it claims
    and stands alone; return what qemu-img says of it. Raises ``qemu_img.Refused`` saying why.

    ``max_virtual_size`` refuses an image whose guest-visible size is larger (a tiny qcow2 may
    announce exabytes). An ISO is read as raw bytes.
    """
    qemu = qemu or qemu_img.QemuImg()
    declared = str(declared_format).upper()
    head = image_header.read_head(path)
    if declared == "QCOW2":
        info = _validate_qcow2(path, head, qemu)
    elif declared in ("RAW", "ISO"):
        info = _validate_raw(path, head, declared, qemu)
    else:
        raise qemu_img.Refused(
            f"images declared {declared} are not accepted: use QCOW2, RAW or ISO"
        )
    if max_virtual_size is not None and info.virtual_size > max_virtual_size:
        raise qemu_img.Refused(
            f"the image's virtual size {info.virtual_size} exceeds the {max_virtual_size} allowed"
        )
    return info


def _validate_raw(
    path: Path, head: bytes, declared: str, qemu: qemu_img.QemuImg
) -> qemu_img.ImageInfo:
    disguise = image_header.sniff(head)
    if disguise is not None:
        raise qemu_img.Refused(
            f"the image declared {declared} begins with a {disguise} header: a file posing as "
            "raw bytes is refused"
        )
    if declared == "ISO" and not image_header.is_iso9660(path):
        raise qemu_img.Refused("the image declared ISO has no ISO 9660 signature (CD001)")
    return _info(qemu, path, "raw", declared)


def _validate_qcow2(path: Path, head: bytes, qemu: qemu_img.QemuImg) -> qemu_img.ImageInfo:
    header = image_header.parse_qcow2(head)
    if header is None:
        looks = image_header.sniff(head) or "plain bytes"
        raise qemu_img.Refused(f"the image declared QCOW2 is not qcow2 (it looks like {looks})")
    if problems := header.problems():
        raise qemu_img.Refused(f"the QCOW2 image is refused: {'; '.join(problems)}")
    info = _info(qemu, path, "qcow2", "QCOW2")
    if info.backing_file is not None:
        raise qemu_img.Refused(f"the QCOW2 image names a backing file ({info.backing_file!r})")
    if info.data_file is not None:
        raise qemu_img.Refused(f"the QCOW2 image names an external data file ({info.data_file!r})")
    if info.encrypted:
        raise qemu_img.Refused("the QCOW2 image is encrypted")
    with _refusing("QCOW2"):
        sound = qemu.check(path, "qcow2")
    if not sound:
        raise qemu_img.Refused("the QCOW2 image is corrupt (qemu-img check)")
    return info


@contextlib.contextmanager
def _refusing(declared: str) -> Iterator[None]:
    """qemu-img failing to read an uploaded image is a refusal of the image, said as such."""
    try:
        yield
    except (qemu_img.Inactive, qemu_img.Cancelled, qemu_img.Missing, qemu_img.UnsafeArgument):
        raise
    except qemu_img.QemuImgError as exc:
        raise qemu_img.Refused(f"qemu-img cannot read the image as {declared}: {exc}") from exc


def _info(qemu: qemu_img.QemuImg, path: Path, fmt: str, declared: str) -> qemu_img.ImageInfo:
    with _refusing(declared):
        info = qemu.info(path, fmt)
    if info.format != fmt:
        raise qemu_img.Refused(f"qemu-img reads the image declared {declared} as {info.format}")
    return info
