"""The NFS image store driver: an export mounted at ``<mount root>/<md5 uuid of host+path>``.

CloudStack's KVM agent mounts each template's directory on its own and unmounts it after the
copy (reference 2.1, #8996); this driver mounts the store's root once per host and addresses
every file relative to it, as the reference's lesson 3 advises. ``open`` mounts on first use
(image stores are not "connected" like pools) and verifies the mount every time.
"""

from __future__ import annotations

from pathlib import Path

from cirrostack.agent.storage import drivers, errors, mounts
from cirrostack.protocol import storage


def _store(store: storage.DataStoreTO) -> tuple[storage.NfsTO, mounts.Export]:
    if not isinstance(store, storage.NfsTO):
        raise errors.Unsupported(f"{type(store).__name__} is not an NFS image store")
    return store, mounts.parse_url(store.url)


def mount_point(store: storage.NfsTO, site: drivers.Site) -> Path:
    """Where ``store`` is mounted on this host."""
    return site.mount_root / mounts.store_mount_name(mounts.parse_url(store.url))


class NfsImageStore:
    """NFS secondary storage (provider ``NFS``)."""

    name = "NFS"
    capabilities = drivers.Capability.FILES | drivers.Capability.SHARED

    def connect(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        found, source = _store(store)
        options = (f"vers={found.nfs_version}",) if found.nfs_version else ()
        target = mount_point(found, site)
        site.mounter.mount(source, target, options)
        if not site.mounter.mounted(target):
            raise errors.NotMounted(f"image store {found.uuid} is not mounted at {target}")
        return drivers.FileStore(found.uuid, target)

    def open(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        return self.connect(store, site)

    def disconnect(self, store: storage.DataStoreTO, site: drivers.Site) -> None:
        found, _ = _store(store)
        site.mounter.unmount(mount_point(found, site))


NFS = NfsImageStore()
