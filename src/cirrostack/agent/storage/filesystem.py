"""The file-based primary pool drivers: Filesystem, SharedMountPoint and NetworkFilesystem.

All three keep a pool's objects as files in one directory; they differ in where it is and who
makes it usable (reference 2.1). Filesystem is host-local storage: the pool's path on this
host, created on connect. SharedMountPoint is a directory the admin mounted on every host (a
cluster filesystem): the agent never creates it, a missing one is refused. NetworkFilesystem is
an NFS export the agent mounts at ``<mount root>/<pool uuid>``; every use checks that the
mount is there (#8887), so a pool whose mount went away is refused instead of filling the bare
directory under the mount root.
"""

from __future__ import annotations

from pathlib import Path

from cirrostack.agent.storage import drivers, errors, mounts, paths
from cirrostack.protocol import storage

FILE_POOL = (
    drivers.Capability.LINKED_CLONE
    | drivers.Capability.NATIVE_SNAPSHOT
    | drivers.Capability.PREALLOCATION
    | drivers.Capability.FILES
)


def _pool(store: storage.DataStoreTO) -> storage.PrimaryDataStoreTO:
    if not isinstance(store, storage.PrimaryDataStoreTO):
        raise errors.Unsupported(f"{type(store).__name__} is not a primary pool")
    paths.relative(store.uuid)
    return store


def _under(root: Path, path: str) -> Path:
    return root / str(paths.absolute(path)).lstrip("/")


class Filesystem:
    """Local storage: a directory of this host (``local.storage.path``)."""

    name = storage.StoragePoolType.FILESYSTEM.value
    capabilities = FILE_POOL

    def connect(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        root = _under(site.local_root, _pool(store).path)
        root.mkdir(parents=True, exist_ok=True)
        return drivers.FileStore(store.uuid, root)

    def open(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        root = _under(site.local_root, _pool(store).path)
        if not root.is_dir():
            raise errors.NotMounted(f"local pool {store.uuid}: {_pool(store).path} is missing")
        return drivers.FileStore(store.uuid, root)

    def disconnect(self, store: storage.DataStoreTO, site: drivers.Site) -> None:
        _pool(store)


class SharedMountPoint:
    """A directory the admin mounted at the same path on every host of the pool's scope."""

    name = storage.StoragePoolType.SHARED_MOUNT_POINT.value
    capabilities = FILE_POOL | drivers.Capability.SHARED

    def connect(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        root = _under(site.shared_root, _pool(store).path)
        if site.create_shared:
            root.mkdir(parents=True, exist_ok=True)
        return self.open(store, site)

    def open(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        pool = _pool(store)
        root = _under(site.shared_root, pool.path)
        if not root.is_dir():
            raise errors.NotMounted(
                f"shared mount point pool {pool.uuid}: {pool.path} is not there on this host"
            )
        return drivers.FileStore(pool.uuid, root)

    def disconnect(self, store: storage.DataStoreTO, site: drivers.Site) -> None:
        _pool(store)


def mount_options(store: storage.PrimaryDataStoreTO) -> tuple[str, ...]:
    """The pool's ``nfsmountopts`` detail as a list (reference 2.1, #8947)."""
    text = store.details.get("nfsmountopts", "")
    return tuple(option.strip() for option in text.split(",") if option.strip())


class NetworkFilesystem:
    """An NFS export mounted by the agent at ``<mount root>/<pool uuid>``."""

    name = storage.StoragePoolType.NETWORK_FILESYSTEM.value
    capabilities = FILE_POOL | drivers.Capability.SHARED

    def connect(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        pool = _pool(store)
        target = site.mount_root / pool.uuid
        site.mounter.mount(mounts.export(pool.host, pool.path), target, mount_options(pool))
        return self.open(store, site)

    def open(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        pool = _pool(store)
        target = site.mount_root / pool.uuid
        if not site.mounter.mounted(target):
            raise errors.NotMounted(
                f"pool {pool.uuid} is not mounted at {target} "
                "(refusing to write into the mount point itself)"
            )
        return drivers.FileStore(pool.uuid, target)

    def disconnect(self, store: storage.DataStoreTO, site: drivers.Site) -> None:
        site.mounter.unmount(site.mount_root / _pool(store).uuid)


FILESYSTEM = Filesystem()
SHARED_MOUNT_POINT = SharedMountPoint()
NETWORK_FILESYSTEM = NetworkFilesystem()
