"""Storage for simulated hosts: a sandbox of real directories, and the attachments a simulated
hypervisor "makes" (it records them).

``site(home, common)``: the host's local pools under ``home/local/<pool path>``, its mounts
under ``home/mnt``, its staging area ``home/staging``; the directory its fleet shares,
``common``, holds SharedMountPoint paths (``_shared/<path>``, created as a simulated admin
would have mounted them) and the stand-in NFS servers' exports (``_nfs/<server>/<export>``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from cirrostack.agent.storage import drivers, mounts
from cirrostack.protocol import storage

#: Under a fleet's directory: SharedMountPoint paths, and the stand-in NFS servers' exports.
SHARED_DIRECTORY = "_shared"
EXPORTS_DIRECTORY = "_nfs"


def site(home: Path, common: Path) -> drivers.Site:
    """The site of a simulated host whose own files are under ``home``."""
    return drivers.Site(
        local_root=home / "local",
        shared_root=common / SHARED_DIRECTORY,
        mount_root=home / "mnt",
        mounter=mounts.StandInMounter(common / EXPORTS_DIRECTORY),
        staging=home / "staging",
        create_shared=True,
    )


class Attachments:
    """The disks attached to each VM of a simulated host (a ``processor.Attacher``)."""

    def __init__(self) -> None:
        #: VM name -> disk_seq -> the file attached there.
        self.disks: dict[str, dict[int, Path]] = {}
        self._lock = threading.Lock()

    def attach(self, vm_name: str, disk: storage.DiskTO, file: Path) -> None:
        """Record ``file`` as ``vm_name``'s disk ``disk.disk_seq``."""
        with self._lock:
            self.disks.setdefault(vm_name, {})[disk.disk_seq] = file

    def detach(self, vm_name: str, disk: storage.DiskTO) -> None:
        """Forget ``vm_name``'s disk ``disk.disk_seq`` (nothing happens if there is none)."""
        with self._lock:
            found = self.disks.get(vm_name, {})
            found.pop(disk.disk_seq, None)
            if not found:
                self.disks.pop(vm_name, None)
