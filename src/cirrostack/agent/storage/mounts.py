"""NFS mounts: where a store is mounted, how, and whether it really is (#8887).

A NetworkFilesystem pool is mounted at ``<mount root>/<pool uuid>``; an NFS image store at
``<mount root>/<nameUUIDFromBytes(host + path)>`` (CloudStack's type-3 MD5 uuid of the raw
bytes, reference 2.1), its root mounted once and files addressed relative to it.

Two mounters: ``SystemMounter`` runs ``mount -t nfs`` and ``umount`` (argv lists, never a
shell) and asks the kernel whether a path is a mount point; it needs root and an NFS server,
so the tests never run it. ``StandInMounter`` is what the simulator (and these machines, which
cannot mount NFS) use: the "server" is a directory ``<exports>/<host>/<export>``, mounting makes
the mount point a symbolic link to it and records the mount in a marker beside it, and the
mount check reads that marker. A mount point that was never mounted, or was unmounted, or that
someone replaced by a plain directory, is refused exactly as a real agent refuses a pool whose
mount is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cirrostack.agent.storage import errors, paths

_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\]")
_OPTION = re.compile(r"[A-Za-z0-9_.=-]{1,64}")
MOUNT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Export:
    """An NFS export: the server's name or address and the exported directory."""

    host: str
    path: str

    @property
    def source(self) -> str:
        """``host:/path`` as mount(8) takes it."""
        return f"{self.host}:{self.path}"


def export(host: str, path: str) -> Export:
    """A checked export; raises PathRefused for a host or path that cannot be one."""
    if _HOST.fullmatch(host) is None:
        raise errors.PathRefused(f"NFS server {host!r} is not a host name or address")
    return Export(host, str(paths.absolute(re.sub("/+", "/", path))))


def parse_url(url: str) -> Export:
    """The export an ``nfs://host/path`` url names; raises PathRefused otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "nfs" or parts.username or parts.password or parts.query:
        raise errors.PathRefused(f"{url!r} is not an nfs://host/path url")
    return export(parts.hostname or "", parts.path or "/")


def store_mount_name(found: Export) -> str:
    """The directory name of an image store's mount: CloudStack's ``nameUUIDFromBytes`` of
    host + path (Java's type-3 uuid of the raw bytes: MD5 with the version and variant bits
    set, which is what ``uuid.UUID(bytes=..., version=3)`` makes)."""
    digest = hashlib.md5((found.host + found.path).encode(), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=digest, version=3))


class Mounter(Protocol):
    """Mounts NFS exports on this host."""

    def mount(self, source: Export, target: Path, options: Sequence[str] = ()) -> None:
        """Mount ``source`` at ``target`` (idempotent); raises NotMounted when it fails."""
        ...

    def unmount(self, target: Path) -> None:
        """Unmount ``target`` (nothing happens if it is not mounted)."""
        ...

    def mounted(self, target: Path) -> bool:
        """Whether ``target`` is a mount right now (checked every time, never remembered)."""
        ...


class SystemMounter:
    """The real thing: mount(8) and umount(8); needs root. Not run by the tests here. Mounts
    and unmounts of one host go one at a time (CloudStack serialises them too, CLOUDSTACK-4459).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def mount(self, source: Export, target: Path, options: Sequence[str] = ()) -> None:
        with self._lock:
            self._mount(source, target, options)

    def _mount(self, source: Export, target: Path, options: Sequence[str]) -> None:
        if self.mounted(target):
            return
        for option in options:
            if _OPTION.fullmatch(option) is None:
                raise errors.NotMounted(f"mount option {option!r} refused")
        target.mkdir(parents=True, exist_ok=True)
        argv = ["mount", "-t", "nfs"]
        if options:
            argv += ["-o", ",".join(options)]
        self._run([*argv, "--", source.source, str(target)])
        if not self.mounted(target):
            raise errors.NotMounted(f"{source.source} is not mounted at {target} after mount")

    def unmount(self, target: Path) -> None:
        with self._lock:
            if self.mounted(target):
                self._run(["umount", "--", str(target)])

    def mounted(self, target: Path) -> bool:
        return os.path.ismount(target)

    def _run(self, argv: list[str]) -> None:
        try:
            done = subprocess.run(  # noqa: S603 - an argv list of checked values
                argv, capture_output=True, text=True, timeout=MOUNT_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise errors.NotMounted(f"{argv[0]} failed: {exc}") from exc
        if done.returncode != 0:
            message = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
            raise errors.NotMounted(f"{argv[0]} failed: {message}")


MARKER_SUFFIX = ".mounted"


class StandInMounter:
    """Mounts by symbolic link to ``<exports>/<host>/<export>``, recorded in a marker."""

    def __init__(self, exports: Path) -> None:
        self.exports = exports
        self._lock = threading.Lock()

    def directory(self, source: Export) -> Path:
        """Where the stand-in server keeps ``source``'s files."""
        return self.exports / source.host / source.path.strip("/")

    def mount(self, source: Export, target: Path, options: Sequence[str] = ()) -> None:
        with self._lock:
            self._mount(source, target)

    def _mount(self, source: Export, target: Path) -> None:
        served = self.directory(source)
        served.mkdir(parents=True, exist_ok=True)
        if self.mounted(target):
            if target.resolve() != served.resolve():
                raise errors.NotMounted(f"{target} is already a mount of another export")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        elif target.exists():
            # A real agent refuses a mount point that is not empty; a stand-in one does too.
            try:
                target.rmdir()
            except OSError as exc:
                raise errors.NotMounted(f"mount point {target} is in use: {exc}") from exc
        target.symlink_to(served.resolve(), target_is_directory=True)
        _marker(target).write_text(source.source)

    def unmount(self, target: Path) -> None:
        with self._lock:
            _marker(target).unlink(missing_ok=True)
            if target.is_symlink():
                target.unlink()

    def mounted(self, target: Path) -> bool:
        try:
            recorded = _marker(target).read_text()
        except OSError:
            return False
        host, _, path = recorded.partition(":")
        return (
            target.is_symlink()
            and target.resolve() == self.directory(Export(host, path)).resolve()
            and target.is_dir()
        )


def _marker(target: Path) -> Path:
    return target.with_name(target.name + MARKER_SUFFIX)
