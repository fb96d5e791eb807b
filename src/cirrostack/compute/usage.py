"""Usage events (``usage_event``) of VMs and their disks, as CloudStack's UsageEventUtils
publishes them: VM.CREATE, VM.START, VM.STOP, VM.DESTROY, VOLUME.CREATE, VOLUME.DELETE.

Always called inside the transaction that makes the change, so a metered happening is recorded
exactly when it happened (a rollback drops both).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cirrostack.db.models import compute, events
from cirrostack.db.models import storage as storage_models

VM_CREATE, VM_START, VM_STOP, VM_DESTROY = "VM.CREATE", "VM.START", "VM.STOP", "VM.DESTROY"
VOLUME_CREATE, VOLUME_DELETE = "VOLUME.CREATE", "VOLUME.DELETE"


def of_vm(session: Session, kind: str, vm: compute.VmInstance) -> None:
    """A VM's event: its offering and template, as CloudStack's (resource type = hypervisor)."""
    session.add(
        events.UsageEvent(
            type=kind,
            account_id=vm.account_id,
            zone_id=vm.data_center_id,
            resource_id=vm.id,
            resource_name=vm.instance_name,
            offering_id=vm.service_offering_id,
            template_id=vm.vm_template_id,
            resource_type=vm.hypervisor_type,
        )
    )


def of_volume(session: Session, kind: str, volume: storage_models.Volume) -> None:
    """A disk's event: its disk offering, template and size in bytes."""
    session.add(
        events.UsageEvent(
            type=kind,
            account_id=volume.account_id,
            zone_id=volume.data_center_id,
            resource_id=volume.id,
            resource_name=volume.name,
            offering_id=volume.disk_offering_id,
            template_id=volume.template_id,
            size=volume.size,
        )
    )
