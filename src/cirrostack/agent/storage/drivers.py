"""The storage driver protocol: what a primary pool or image store driver gives the processor.

A driver turns a store's transfer object into a ``Store`` this host can use now: ``connect``
makes it usable (mounts an NFS export, creates a local directory) and ``open`` only checks that
it is (a NetworkFilesystem pool whose mount is gone is refused, never written into). Stores
come in two kinds: a ``FileStore`` is a directory whose files qemu-img can open (the pools and
NFS image stores), an ``ObjectStore`` holds objects by key (S3) and is read and written by
streaming to and from files.

Drivers are plugins of the entry-point group ``cirrostack.storage``, named by the store kind:
the pool type for pools (``Filesystem``, ``SharedMountPoint``, ``NetworkFilesystem``), the
provider for image stores (``NFS``, ``S3``). ``capabilities`` says what a driver can do beyond
storing bytes, so callers ask instead of testing names.
"""

from __future__ import annotations

import enum
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from cirrostack.agent import work
from cirrostack.agent.storage import errors, mounts, paths
from cirrostack.protocol import storage


class Capability(enum.Flag):
    """What a driver's stores can do beyond holding bytes."""

    NONE = 0
    #: A volume can be a qcow2 overlay of a template copy on the same store.
    LINKED_CLONE = enum.auto()
    #: Snapshots taken inside the store (qcow2 internal or a storage system's own).
    NATIVE_SNAPSHOT = enum.auto()
    #: Backups that copy only what changed since the last one.
    INCREMENTAL_BACKUP = enum.auto()
    #: Space reserved at creation (preallocation metadata / full).
    PREALLOCATION = enum.auto()
    #: Every host connected to the store sees the same bytes.
    SHARED = enum.auto()
    #: Objects are files qemu-img can open in place.
    FILES = enum.auto()


@dataclass(frozen=True)
class Site:
    """Where this host keeps what its drivers reach.

    On a real host ``local_root`` and ``shared_root`` are ``/`` (a pool's path is a directory
    of the machine) and ``mount_root`` is ``/mnt``; a simulated host puts all three under its
    data directory, so its pools are real files in a sandbox. ``create_shared``: a missing
    SharedMountPoint directory is created (the simulated admin "mounted" it) rather than
    refused.
    """

    local_root: Path
    shared_root: Path
    mount_root: Path
    mounter: mounts.Mounter
    staging: Path
    create_shared: bool = False


def host_site(staging: Path, mount_root: Path = Path("/mnt")) -> Site:
    """The site of a real host (a kvm agent): pool paths are this machine's directories, NFS
    is mounted for real under ``mount_root``."""
    return Site(
        local_root=Path("/"),
        shared_root=Path("/"),
        mount_root=mount_root,
        mounter=mounts.SystemMounter(),
        staging=staging,
    )


@dataclass(frozen=True)
class Stats:
    """A store's size and use in bytes; ``capacity`` 0 means unbounded (an object store)."""

    capacity: int
    used: int

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.used)


@runtime_checkable
class Store(Protocol):
    """A store as this host reaches it."""

    uuid: str

    def stats(self) -> Stats:
        """Size and use now."""
        ...

    def delete(self, path: str) -> bool:
        """Remove the object at ``path``; False when it was already gone."""
        ...

    def size(self, path: str) -> int | None:
        """The stored bytes of ``path``, None when there is nothing there."""
        ...


class FileStore:
    """A directory whose files are the store's objects (pools, NFS image stores)."""

    def __init__(self, uuid: str, root: Path) -> None:
        self.uuid = uuid
        self.root = root

    def file(self, path: str) -> Path:
        """The file ``path`` names, checked to lie inside the store; raises PathRefused."""
        return paths.within(self.root, path)

    def stats(self) -> Stats:
        found = os.statvfs(self.root)
        capacity = found.f_blocks * found.f_frsize
        return Stats(capacity, capacity - found.f_bavail * found.f_frsize)

    def delete(self, path: str) -> bool:
        target = self.file(path)
        if target.is_dir() and not target.is_symlink():
            raise errors.PathRefused(f"{path!r} on store {self.uuid} is a directory")
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        return True

    def size(self, path: str) -> int | None:
        try:
            return self.file(path).stat().st_size
        except FileNotFoundError:
            return None

    def prune(self, path: str) -> None:
        """Remove the empty directories above ``path`` up to (not including) the root."""
        parent = self.file(path).parent
        base = self.root.resolve()
        while parent != base and parent.is_relative_to(base):
            try:
                parent.rmdir()
            except OSError:
                return
            parent = parent.parent

    def files(self) -> Iterator[Path]:
        """The regular files directly in the root (not hidden ones)."""
        for entry in sorted(self.root.iterdir()):
            if not entry.name.startswith(".") and entry.is_file():
                yield entry

    def free(self) -> int:
        """Bytes free for writing now."""
        return shutil.disk_usage(self.root).free


@runtime_checkable
class ObjectStore(Store, Protocol):
    """A store of objects by key, read and written by streaming (S3)."""

    def download(self, key: str, dest: BinaryIO, job: work.Work) -> int:
        """Stream ``key`` into ``dest``, reporting progress; the bytes written. Raises Missing."""
        ...

    def upload(self, source: Path, key: str, job: work.Work) -> int:
        """Store the file ``source`` under ``key`` (multipart when it is large); its size."""
        ...

    def read(self, key: str, offset: int, length: int) -> tuple[bytes, int]:
        """Up to ``length`` bytes of ``key`` from ``offset`` and the object's size; Missing."""
        ...


class Driver(Protocol):
    """A kind of store: how this host connects to, opens and leaves one."""

    #: The store kind it serves (pool type or image store provider).
    name: str
    capabilities: Capability

    def connect(self, store: storage.DataStoreTO, site: Site) -> Store:
        """Make ``store`` usable from this host (mount, create) and return it; StorageError."""
        ...

    def open(self, store: storage.DataStoreTO, site: Site) -> Store:
        """``store`` as connected before, verified usable now; raises NotMounted otherwise."""
        ...

    def disconnect(self, store: storage.DataStoreTO, site: Site) -> None:
        """Leave ``store`` (unmount); its contents stay."""
        ...


def kind(store: storage.DataStoreTO) -> str:
    """The driver name that serves ``store``."""
    if isinstance(store, storage.PrimaryDataStoreTO):
        return store.pool_type.value
    if isinstance(store, storage.NfsTO):
        return "NFS"
    return "S3"


class Drivers:
    """The loaded drivers by name; ``plugins.storage_drivers`` builds one at start-up."""

    def __init__(self, by_name: Mapping[str, Driver]) -> None:
        self._by_name = dict(by_name)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def of(self, store: storage.DataStoreTO) -> Driver:
        """The driver of ``store``; raises Unsupported when none is loaded for its kind."""
        name = kind(store)
        found = self._by_name.get(name)
        if found is None:
            raise errors.Unsupported(f"no storage driver for {name} stores on this host")
        return found

    def open(self, store: storage.DataStoreTO, site: Site) -> Store:
        return self.of(store).open(store, site)
