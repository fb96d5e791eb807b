"""Downloads from a real HTTP server on loopback: what is refused, and that nothing is left.

Loopback is reachable only because each test allows it (``allowed_internal``); without that
the same URL is refused before any connection (the server sees no request).
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cirrostack.agent import ingest, ingest_errors
from tests.security import ingest_server
from tests.security.ingest_server import Route

LOOPBACK = ("127.0.0.0/8",)
BODY = bytes(range(256)) * 12288  # 3 MiB


@pytest.fixture
def server() -> Iterator[ingest_server.Server]:
    with ingest_server.serving() as running:
        running.routes["/good.qcow2"] = Route(BODY)
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "store"
    directory.mkdir()
    return directory


def _left(store: Path) -> list[str]:
    return sorted(path.name for path in store.iterdir())


def test_a_good_download_is_verified_and_reported(
    server: ingest_server.Server, store: Path
) -> None:
    seen: list[tuple[int, int]] = []
    sha = hashlib.sha256(BODY).hexdigest()
    got = ingest.download(
        f"{server.base}/good.qcow2",
        store / "t.qcow2",
        allowed_internal=LOOPBACK,
        checksum=f"{{SHA-256}}{sha}",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert got == ingest.Downloaded(store / "t.qcow2", len(BODY), f"{{SHA-256}}{sha}")
    assert (store / "t.qcow2").read_bytes() == BODY
    assert seen[-1] == (len(BODY), len(BODY)) and all(t == len(BODY) for _, t in seen)
    assert _left(store) == ["t.qcow2"]
    port = server.base.rsplit(":", 1)[1]
    assert server.seen == [("/good.qcow2", f"127.0.0.1:{port}")]


def test_without_a_checksum_an_md5_is_computed(server: ingest_server.Server, store: Path) -> None:
    got = ingest.download(f"{server.base}/good.qcow2", store / "t", allowed_internal=LOOPBACK)
    assert got.checksum == "{MD5}" + hashlib.md5(BODY).hexdigest()


def test_a_bare_hex_checksum_is_md5(server: ingest_server.Server, store: Path) -> None:
    bare = hashlib.md5(BODY).hexdigest().upper()
    got = ingest.download(
        f"{server.base}/good.qcow2", store / "t", allowed_internal=LOOPBACK, checksum=bare
    )
    assert got.checksum == "{MD5}" + bare.lower()


def test_loopback_is_refused_unless_allowed(server: ingest_server.Server, store: Path) -> None:
    with pytest.raises(ingest_errors.UrlRefused, match="internal address"):
        ingest.download(f"{server.base}/good.qcow2", store / "t")
    with pytest.raises(ingest_errors.UrlRefused, match="internal address"):
        ingest.download(f"{server.base}/good.qcow2", store / "t", allowed_internal=("10.0.0.0/8",))
    assert server.seen == [] and _left(store) == []


def test_a_redirect_is_refused_never_followed(server: ingest_server.Server, store: Path) -> None:
    server.routes["/moved"] = Route(status=302, headers={"Location": "/good.qcow2"})
    with pytest.raises(ingest_errors.Redirected, match=r"302 Found.*never followed"):
        ingest.download(f"{server.base}/moved", store / "t", allowed_internal=LOOPBACK)
    assert [path for path, _ in server.seen] == ["/moved"]
    assert _left(store) == []


def test_a_wrong_checksum_leaves_nothing(server: ingest_server.Server, store: Path) -> None:
    wrong = "{SHA-256}" + "0" * 64
    with pytest.raises(ingest_errors.ChecksumMismatch, match="did not match"):
        ingest.download(
            f"{server.base}/good.qcow2", store / "t", allowed_internal=LOOPBACK, checksum=wrong
        )
    assert _left(store) == []


def test_a_wrong_checksum_does_not_replace_an_existing_file(
    server: ingest_server.Server, store: Path
) -> None:
    (store / "t").write_bytes(b"before")
    with pytest.raises(ingest_errors.ChecksumMismatch):
        ingest.download(
            f"{server.base}/good.qcow2", store / "t", allowed_internal=LOOPBACK, checksum="0" * 32
        )
    assert (store / "t").read_bytes() == b"before" and _left(store) == ["t"]


@pytest.mark.parametrize("text", ["{SHA-256}abc", "{CRC32}00000000", "xyz", "{MD5}" + "g" * 32])
def test_a_malformed_checksum_is_refused_before_connecting(
    server: ingest_server.Server, store: Path, text: str
) -> None:
    with pytest.raises(ingest_errors.BadChecksum):
        ingest.download(
            f"{server.base}/good.qcow2", store / "t", allowed_internal=LOOPBACK, checksum=text
        )
    assert server.seen == [] and _left(store) == []


def test_an_announced_oversize_is_refused_before_reading(
    server: ingest_server.Server, store: Path
) -> None:
    with pytest.raises(ingest_errors.TooLarge, match="announces 3145728 bytes"):
        ingest.download(
            f"{server.base}/good.qcow2", store / "t", allowed_internal=LOOPBACK, max_size=1024
        )
    assert _left(store) == []


def test_an_unannounced_oversize_stops_being_read(
    server: ingest_server.Server, store: Path
) -> None:
    server.routes["/endless"] = Route(BODY, length=-1)
    with pytest.raises(ingest_errors.TooLarge, match="more than the 1048576 bytes"):
        ingest.download(
            f"{server.base}/endless", store / "t", allowed_internal=LOOPBACK, max_size=1024**2
        )
    assert _left(store) == []


def test_a_body_shorter_than_announced_fails(server: ingest_server.Server, store: Path) -> None:
    server.routes["/short"] = Route(b"x" * 10, length=1000)
    with pytest.raises(ingest_errors.DownloadFailed, match="after 10 of the 1000 bytes"):
        ingest.download(f"{server.base}/short", store / "t", allowed_internal=LOOPBACK)
    assert _left(store) == []


def test_an_error_status_is_named(server: ingest_server.Server, store: Path) -> None:
    with pytest.raises(ingest_errors.DownloadFailed, match="404 Not Found"):
        ingest.download(f"{server.base}/missing", store / "t", allowed_internal=LOOPBACK)
    assert _left(store) == []


def test_a_silent_server_is_given_up(server: ingest_server.Server, store: Path) -> None:
    server.routes["/slow"] = Route(BODY, stall_after=100, stall=5.0)
    started = time.monotonic()
    with pytest.raises(ingest_errors.DownloadInactive, match=r"sent nothing for 0\.5 s"):
        ingest.download(
            f"{server.base}/slow", store / "t", allowed_internal=LOOPBACK, inactivity=0.5
        )
    assert time.monotonic() - started < 3
    assert _left(store) == []


def test_a_cancelled_download_stops_at_once(server: ingest_server.Server, store: Path) -> None:
    server.routes["/slow"] = Route(BODY, stall_after=100, stall=5.0)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(ingest_errors.DownloadCancelled):
        ingest.download(
            f"{server.base}/slow", store / "t", allowed_internal=LOOPBACK, cancel=cancel
        )
    assert time.monotonic() - started < 3
    assert _left(store) == []


def test_a_progress_report_that_raises_stops_and_cleans_up(
    server: ingest_server.Server, store: Path
) -> None:
    def refuse(done: int, total: int) -> None:
        raise RuntimeError("the server went away")

    with pytest.raises(RuntimeError):
        ingest.download(
            f"{server.base}/good.qcow2", store / "t", allowed_internal=LOOPBACK, progress=refuse
        )
    assert _left(store) == []


@pytest.mark.parametrize(
    "path",
    [
        "/$(touch${IFS}pwned).qcow2",
        "/a;reboot.qcow2",
        "/a%60id%60.qcow2",
        "/x'y.qcow2",
        "/a%0a.qcow2",
    ],
)
def test_a_name_with_shell_characters_is_refused(
    server: ingest_server.Server, store: Path, path: str
) -> None:
    server.routes[path] = Route(BODY)
    with pytest.raises(ingest_errors.UrlRefused, match="unsafe characters"):
        ingest.download(f"{server.base}{path}", store / "t", allowed_internal=LOOPBACK)
    assert server.seen == [] and _left(store) == []


def test_a_missing_destination_directory_is_a_clear_error(
    server: ingest_server.Server, tmp_path: Path
) -> None:
    with pytest.raises(ingest_errors.DownloadFailed, match="cannot write the download"):
        ingest.download(
            f"{server.base}/good.qcow2", tmp_path / "no" / "t", allowed_internal=LOOPBACK
        )


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_store_is_its_own_kind(code: int, tmp_path: Path) -> None:
    error = ingest.write_error(OSError(code, os.strerror(code)), tmp_path)
    assert isinstance(error, ingest_errors.NoSpace) and str(tmp_path) in str(error)
    assert (
        type(ingest.write_error(OSError(errno.EIO, "I/O"), tmp_path))
        is ingest_errors.DownloadFailed
    )
