"""VM records: create (phase A of deployVirtualMachine), look up, update.

``create`` does what CloudStack's ``createVirtualMachine`` + ``allocate`` do, in the request's
transaction: the checks, the owner's user_vm/cpu/memory counts reserved (one conditional
UPDATE each, ``accounts.limits``), the ``vm_instance`` + ``user_vm`` rows in Stopped with the
details, the ROOT volume (from the template, ``ROOT-<vmid>``) and the optional data disk
(``DATA-<vmid>``), both Allocated on no pool (``storage.volumes``). The host name is unique
among the owner's live VMs of the zone by a unique key (migration 0014), never by a check
first. Placement, volumes on a pool and the agent come later, in the start job
(``compute.vm_start``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import secrets
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, limits, locks, resources
from cirrostack.compute import usage, vm_nics
from cirrostack.config import keys, settings
from cirrostack.db import unique
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import compute as models
from cirrostack.db.models import infrastructure, offerings, templates
from cirrostack.db.models import storage as storage_models
from cirrostack.offerings import service_offerings
from cirrostack.states.machines import compute as machines
from cirrostack.storage import volumes

State = machines.VmState
Event = machines.VmEvent
GIB = volumes.GIB
NAME_KEY = "uq_vm_instance_account_id_data_center_id_live_name"
#: Device ids of a VM's disks: ROOT 0; data disks 1, 2, 4, ... (3 is the CD-ROM's).
ROOT_DEVICE = 0
FIRST_DATA_DEVICE = 1
#: States a VM no longer shows in (it is gone).
GONE = (State.Expunging.value,)

_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,62}")
#: Details a user may not set (CloudStack refuses extraconfig on deploy).
_REFUSED_DETAILS = frozenset({"extraconfig"})


@dataclass(frozen=True)
class NewVm:
    """What deployVirtualMachine asks for (sizes in GB as the API gives them)."""

    zone: infrastructure.DataCenter
    offering: offerings.ServiceOffering
    template: templates.VmTemplate
    name: str | None = None
    display_name: str | None = None
    disk_offering: offerings.DiskOffering | None = None
    size_gb: int | None = None
    root_disk_gb: int | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    user_data: str | None = None
    network_uuids: tuple[str, ...] = ()
    ip_address: str | None = None


def check_host_name(name: str) -> str:
    """A guest host name as CloudStack validates it (an RFC 1123 domain label)."""
    if _LABEL.fullmatch(name) is None or name.endswith("-"):
        raise errors.InvalidParameterValue(
            "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' "
            "through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and "
            "can't start or end with \"-\" and can't start with digit"
        )
    return name


def check_user_data(session: Session, text: str | None) -> str | None:
    """Base64 user data within ``vm.userdata.max.length`` characters (None: none)."""
    if text is None or text == "":
        return None
    most = settings.Settings(session).get(keys.VM_USERDATA_MAX_LENGTH)
    if len(text) > most:
        raise errors.InvalidParameterValue(
            f"User data is too long for an http GET/POST request: {len(text)} characters, "
            f"at most {most} (vm.userdata.max.length)"
        )
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidParameterValue("User data is not base64 encoded") from None
    return text


def check_details(details: Mapping[str, str]) -> dict[str, str]:
    refused = sorted(name for name in details if name.lower() in _REFUSED_DETAILS)
    if refused:
        raise errors.InvalidParameterValue(
            f"Details {', '.join(refused)} cannot be set on deployVirtualMachine"
        )
    return dict(details)


def _name_taken(name: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"The vm with hostName {name} already exists in the account's zone: choose another name"
    )


def _root_size_gb(new: NewVm) -> int:
    """The ROOT disk in GB: ``rootdisksize`` (details win), else the template's size rounded up."""
    given = new.details.get("rootdisksize")
    if given is not None:
        if not given.isdigit() or int(given) < 1:
            raise errors.InvalidParameterValue(f"rootdisksize {given!r} is not a whole GB number")
        wanted = int(given)
    elif new.root_disk_gb is not None:
        wanted = new.root_disk_gb
    else:
        return max(1, -(-(new.template.size or GIB) // GIB))
    smallest = -(-(new.template.size or 0) // GIB)
    if wanted < max(1, smallest):
        raise errors.InvalidParameterValue(
            f"Root disk size {wanted} GB is smaller than the template's {smallest} GB"
        )
    return wanted


def _compute(offering: offerings.ServiceOffering, details: Mapping[str, str]) -> tuple[int, ...]:
    """(cpus, MHz, RAM MB): the offering's, or a custom offering's from ``details``."""
    values = []
    for column, detail in (("cpu", "cpuNumber"), ("speed", "cpuSpeed"), ("ram_size", "memory")):
        fixed = getattr(offering, column)
        if fixed:
            values.append(int(fixed))
            continue
        given = details.get(detail, "")
        if not given.isdigit() or int(given) < 1:
            raise errors.InvalidParameterValue(
                f"Service offering {offering.uuid} is custom: give details[0].{detail}"
            )
        values.append(int(given))
    return tuple(values)


def create(
    session: Session,
    caller: access.Caller,
    owner: account_models.Account,
    new: NewVm,
    now: datetime.datetime,
) -> models.VmInstance:
    """Record the VM (Stopped), its details and its disks (Allocated), reserving the owner's
    counts; raises InvalidParameterValue, PermissionDenied or ResourceAllocation, writing
    nothing then."""
    volumes.check_zone(caller, new.zone)
    details = check_details(new.details)
    user_data = check_user_data(session, new.user_data)
    cpus, speed, ram = _compute(new.offering, details)
    vm_uuid = str(uuid_module.uuid4())
    name = check_host_name(new.name) if new.name else f"VM-{vm_uuid}"
    root_gb = _root_size_gb(new)
    owner = locks.account(session, owner.id)
    limits.reserve(session, owner, resources.ResourceType.USER_VM, 1)
    limits.reserve(session, owner, resources.ResourceType.CPU, cpus)
    limits.reserve(session, owner, resources.ResourceType.MEMORY, ram)
    vm = models.VmInstance(
        uuid=vm_uuid,
        name=name,
        instance_name="i-pending",
        state=State.Stopped.value,
        type="User",
        vm_type="User",
        vm_template_id=new.template.id,
        guest_os_id=new.template.guest_os_id,
        service_offering_id=new.offering.id,
        data_center_id=new.zone.id,
        hypervisor_type=new.template.hypervisor_type,
        account_id=owner.id,
        domain_id=owner.domain_id,
        user_id=caller.user_id,
        ha_enabled=bool(new.offering.ha_enabled),
        limit_cpu_use=bool(new.offering.limit_cpu_use),
        vnc_password=secrets.token_urlsafe(12),
        created=now,
    )
    with unique.refusing(session, NAME_KEY, _name_taken(name)):
        session.add(vm)
    vm.instance_name = f"i-{owner.id}-{vm.id}-VM"
    session.add(models.UserVm(id=vm.id, display_name=new.display_name or name, user_data=user_data))
    if not new.offering.cpu:
        details.update(cpuNumber=str(cpus), cpuSpeed=str(speed), memory=str(ram))
    if new.root_disk_gb is not None:
        details.setdefault("rootdisksize", str(root_gb))
    for key, value in details.items():
        session.add(models.UserVmDetail(vm_id=vm.id, name=key, value=value))
    _disks(session, caller, owner, vm, new, root_gb, now)
    vm_nics.allocate(session, caller, vm, new.network_uuids, new.ip_address)
    usage.of_vm(session, usage.VM_CREATE, vm)
    session.flush()
    return vm


def _disks(
    session: Session,
    caller: access.Caller,
    owner: account_models.Account,
    vm: models.VmInstance,
    new: NewVm,
    root_gb: int,
    now: datetime.datetime,
) -> None:
    root_offering = service_offerings.root_disk(session, new.offering)
    root = volumes.create(
        session,
        caller,
        owner,
        volumes.NewVolume(
            name=f"ROOT-{vm.id}",
            offering=root_offering,
            zone=new.zone,
            size_gb=root_gb,
            volume_type=volumes.ROOT,
            template_id=new.template.id,
        ),
        now,
    )
    _attach(root, vm, ROOT_DEVICE, now)
    usage.of_volume(session, usage.VOLUME_CREATE, root)
    if new.disk_offering is not None:
        data = volumes.create(
            session,
            caller,
            owner,
            volumes.NewVolume(
                name=f"DATA-{vm.id}", offering=new.disk_offering, zone=new.zone, size_gb=new.size_gb
            ),
            now,
        )
        _attach(data, vm, FIRST_DATA_DEVICE, now)
        usage.of_volume(session, usage.VOLUME_CREATE, data)


def _attach(
    volume: storage_models.Volume, vm: models.VmInstance, device: int, now: datetime.datetime
) -> None:
    volume.instance_id = vm.id
    volume.device_id = device
    volume.attached = now


def by_uuid(
    session: Session, caller: access.Caller, uuid: str | None, *, parameter: str = "id"
) -> models.VmInstance:
    """The live user VM ``uuid`` names, if the caller reaches its owner; else like unknown."""
    vm = None
    if uuid is not None:
        vm = session.scalars(
            sa.select(models.VmInstance).where(
                models.VmInstance.uuid == uuid,
                models.VmInstance.removed.is_(None),
                models.VmInstance.type == "User",
            )
        ).first()
    if vm is None or not _reaches(session, caller, vm):
        raise errors.InvalidParameterValue(
            f"Unable to find virtual machine with {parameter} {uuid}"
        )
    return vm


def _reaches(session: Session, caller: access.Caller, vm: models.VmInstance) -> bool:
    owner = session.get_one(account_models.Account, vm.account_id)
    domain = session.get_one(account_models.Domain, owner.domain_id)
    return access.reaches_account(caller, owner, domain)


def disks_of(session: Session, vm_id: int) -> list[storage_models.Volume]:
    """The VM's attached volumes, ROOT first, by device id."""
    volume = storage_models.Volume
    return list(
        session.scalars(
            sa.select(volume)
            .where(
                volume.instance_id == vm_id,
                volume.removed.is_(None),
                volume.state.not_in(volumes.GONE),
            )
            .order_by(volume.device_id, volume.id)
        )
    )


def details_of(session: Session, vm_id: int) -> dict[str, str]:
    detail = models.UserVmDetail
    rows = session.scalars(sa.select(detail).where(detail.vm_id == vm_id, detail.display.is_(True)))
    return {row.name: row.value for row in rows}


def sizing(session: Session, vm: models.VmInstance) -> tuple[int, int, int]:
    """(cpus, MHz per core, RAM MB) the VM runs with."""
    offering = session.get_one(offerings.ServiceOffering, vm.service_offering_id)
    found = _compute(offering, details_of(session, vm.id))
    return found[0], found[1], found[2]


def release_counts(session: Session, vm: models.VmInstance) -> None:
    """Give back what ``create`` reserved for the VM (user_vm 1, its CPUs and RAM)."""
    cpus, _speed, ram = sizing(session, vm)
    owner = session.get_one(account_models.Account, vm.account_id)
    limits.release(session, owner, resources.ResourceType.USER_VM, 1)
    limits.release(session, owner, resources.ResourceType.CPU, cpus)
    limits.release(session, owner, resources.ResourceType.MEMORY, ram)


def reserve_counts(session: Session, vm: models.VmInstance) -> None:
    """Count the VM again (recoverVirtualMachine)."""
    cpus, _speed, ram = sizing(session, vm)
    owner = locks.account(session, vm.account_id)
    limits.reserve(session, owner, resources.ResourceType.USER_VM, 1)
    limits.reserve(session, owner, resources.ResourceType.CPU, cpus)
    limits.reserve(session, owner, resources.ResourceType.MEMORY, ram)


@dataclass(frozen=True)
class VmChanges:
    """updateVirtualMachine: what the caller asked to change (None: unchanged)."""

    display_name: str | None = None
    name: str | None = None
    details: Mapping[str, str] | None = None
    user_data: str | None = None


def update(session: Session, vm: models.VmInstance, changes: VmChanges) -> None:
    """Change the display name, host name (only while Stopped: the guest would not see it),
    details (replacing the shown ones) or user data."""
    user_vm = session.get_one(models.UserVm, vm.id)
    if changes.display_name is not None:
        user_vm.display_name = changes.display_name
    if changes.user_data is not None:
        user_vm.user_data = check_user_data(session, changes.user_data)
    if changes.name is not None and changes.name != vm.name:
        if State(vm.state) is not State.Stopped:
            raise errors.InvalidParameterValue(
                f"VM {vm.uuid} is {vm.state}: stop it before changing its host name"
            )
        name = check_host_name(changes.name)
        with unique.refusing(session, NAME_KEY, _name_taken(name)):
            vm.name = name
    if changes.details is not None:
        details = check_details(changes.details)
        detail = models.UserVmDetail
        session.execute(
            sa.delete(detail)
            .where(detail.vm_id == vm.id, detail.display.is_(True))
            .execution_options(synchronize_session=False)
        )
        for key, value in details.items():
            session.add(models.UserVmDetail(vm_id=vm.id, name=key, value=value))
    session.flush()
