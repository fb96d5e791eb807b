"""The VM as its host's agent needs it: ``VirtualMachineTO`` for StartCommand (reference §3.1).

Read in a short transaction right before the StartCommand; every disk must be on a pool
(Ready). min/max speed and RAM follow HypervisorGuruBase: min = value / the cluster's
overcommit ratio, max = the value (§2.6). NICs come from the network slice's rows
(``network.nics``) when it is there; a VM without NICs starts without.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cirrostack.compute import vms
from cirrostack.db.models import compute as models
from cirrostack.db.models import guest_os
from cirrostack.db.models import storage as storage_models
from cirrostack.infrastructure import clusters
from cirrostack.protocol import compute as protocol
from cirrostack.protocol import storage as storage_protocol
from cirrostack.storage import volume_delete

MIB = 1024**2


def disk_of(session: Session, volume: storage_models.Volume) -> storage_protocol.DiskTO:
    """A disk of the VM as a DiskTO (the volume on its pool)."""
    assert volume.pool_id is not None
    pool = session.get_one(storage_models.StoragePool, volume.pool_id)
    data = volume_delete.data_of(volume, pool)
    return storage_protocol.DiskTO(
        data=data,
        disk_seq=volume.device_id or 0,
        type=volume.volume_type,
        path=volume.path,
        details={"volumeSize": str(volume.size or 0)},
    )


def build(
    session: Session,
    vm: models.VmInstance,
    cluster_id: int | None,
    nics: tuple[protocol.NicTO, ...] = (),
) -> protocol.VirtualMachineTO:
    """The VM's transfer object for a start on a host of ``cluster_id``."""
    cpus, speed, ram_mb = vms.sizing(session, vm)
    ratios = clusters.overcommit(session, cluster_id)
    ram = ram_mb * MIB
    os = session.get(guest_os.GuestOs, vm.guest_os_id)
    disks = tuple(
        disk_of(session, volume)
        for volume in vms.disks_of(session, vm.id)
        if volume.pool_id is not None
    )
    return protocol.VirtualMachineTO(
        id=vm.id,
        name=vm.instance_name,
        uuid=vm.uuid,
        type=vm.type,
        cpus=cpus,
        speed=speed,
        min_speed=int(speed / ratios.cpu),
        max_speed=speed,
        min_ram=int(ram / ratios.memory),
        max_ram=ram,
        host_name=vm.name,
        os=os.display_name if os is not None else "Other",
        vnc_password=vm.vnc_password,
        enable_ha=vm.ha_enabled,
        limit_cpu_use=vm.limit_cpu_use,
        disks=tuple(sorted(disks, key=lambda disk: disk.disk_seq)),
        nics=tuple(sorted(nics, key=lambda nic: nic.device_id)),
        params=vms.details_of(session, vm.id),
    )
