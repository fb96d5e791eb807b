"""deployVirtualMachine and the VM lifecycle: start, stop, reboot, destroy, recover, expunge,
update, list.

deployVirtualMachine is async and create-type as in CloudStack: the request records the VM
(Stopped), its disks (Allocated) and counts (``compute.vms``) and answers ``id`` with the
``jobid``; the job starts it (``compute.vm_start``) unless ``startvm=false``. Every job of a
VM names it as its instance, so the job queue runs the operations on one VM one at a time
(``jobs.queue``: one queue key per instance). The answer of each is the ``virtualmachine``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import scope
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.api.commands.volumes import owner
from cirrostack.api.views import vms as views
from cirrostack.compute import (
    instance_groups,
    vm_destroy,
    vm_keys,
    vm_search,
    vm_start,
    vm_stop,
    vms,
)
from cirrostack.config import keys, settings
from cirrostack.db.models import compute as models
from cirrostack.db.models import infrastructure, templates
from cirrostack.db.models import storage as storage_models
from cirrostack.infrastructure import zones
from cirrostack.jobs import context, queue
from cirrostack.offerings import disk_offerings, service_offerings
from cirrostack.offerings import scope as offering_scope
from cirrostack.states import bindings

#: The jobs' instance type: the VM binding's resource type, which the reaper matches.
RESOURCE_TYPE = bindings.VM.resource_type


def _acted_on(call: registry.Call, vm: models.VmInstance) -> models.VmInstance:
    call.acted_on = (RESOURCE_TYPE, vm.id, vm.name)
    return vm


def _answer(call: registry.Call, vm: models.VmInstance) -> responses.Reply:
    return responses.Single("virtualmachine", views.vm_item(call.session, call.who, vm))


def _job(call: registry.Call) -> context.JobContext:
    if not isinstance(call.job, context.JobContext):
        raise RuntimeError(f"{call.command.name} runs only as a job")
    return call.job


def _the_vm(call: registry.Call) -> models.VmInstance:
    if call.instance_id is None:
        raise RuntimeError(f"{call.command.name}'s job runs without its VM")
    return _acted_on(call, call.session.get_one(models.VmInstance, call.instance_id))


def _details(value: dict[int, dict[str, str]] | None) -> dict[str, str]:
    """``details[0].a=1&details[0].b=2`` (CloudStack's form) as ``{"a": "1", "b": "2"}``."""
    merged: dict[str, str] = {}
    for index in sorted(value or {}):
        merged.update((value or {})[index])
    return merged


# --- deployVirtualMachine ----------------------------------------------------------------------


def _template(call: registry.Call) -> templates.VmTemplate:
    """A template the caller may launch: public, its own, or (admins) one below it."""
    uuid = call.get("templateid")
    if uuid is None:
        raise errors.InvalidParameterValue(
            "Specify templateid (deploying from an ISO, volume or snapshot is not supported yet)"
        )
    found = call.session.scalars(
        sa.select(templates.VmTemplate).where(
            templates.VmTemplate.uuid == uuid, templates.VmTemplate.removed.is_(None)
        )
    ).first()
    who = call.who
    usable = found is not None and (
        found.public or who.is_root_admin or found.account_id == who.account_id
    )
    if found is None or not usable:
        raise errors.InvalidParameterValue(f"Unable to use template {uuid}")
    if found.format == "ISO":
        raise errors.InvalidParameterValue(
            f"Template {uuid} is an ISO: deploying from an ISO is not supported yet"
        )
    if found.state != "Active":
        raise errors.InvalidParameterValue(f"Template {uuid} is {found.state}: it cannot be used")
    return found


def _service_offering(call: registry.Call) -> Any:
    uuid = call.get("serviceofferingid")
    offering = service_offerings.by_uuid(call.session, uuid, parameter="serviceofferingid")
    if offering.system_use or not offering_scope.sees(
        call.session, call.who, offering_scope.SERVICE, offering.id
    ):
        raise service_offerings.unknown(uuid, "serviceofferingid")
    return offering


def _disk_offering(call: registry.Call) -> Any:
    uuid = call.get("diskofferingid")
    if uuid is None:
        return None
    offering = disk_offerings.by_uuid(call.session, uuid, parameter="diskofferingid")
    if not offering_scope.sees(call.session, call.who, offering_scope.DISK, offering.id):
        raise disk_offerings.unknown(uuid, "diskofferingid")
    return offering


def _host_arg(call: registry.Call) -> infrastructure.Host | None:
    uuid = call.get("hostid")
    if uuid is None:
        return None
    if not call.who.is_root_admin:
        raise errors.PermissionDenied("Only a root admin may choose the host (hostid)")
    host = call.session.scalars(
        sa.select(infrastructure.Host).where(
            infrastructure.Host.uuid == uuid, infrastructure.Host.removed.is_(None)
        )
    ).first()
    if host is None:
        raise errors.InvalidParameterValue(f"Unable to find host by id {uuid}")
    return host


def _unsupported(call: registry.Call) -> None:
    for name, what in (
        ("affinitygroupids", "affinity groups"),
        ("securitygroupids", "security groups"),
    ):
        if call.get(name) is not None:
            raise errors.InvalidParameterValue(f"{name}: {what} are not supported yet")


def allocate(call: registry.Call) -> jobs.Instance:
    """At submit: every check, then the VM recorded Stopped with its disks Allocated."""
    _unsupported(call)
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid")
    _host_arg(call)
    new = vms.NewVm(
        zone=zone,
        offering=_service_offering(call),
        template=_template(call),
        name=call.get("name"),
        display_name=call.get("displayname"),
        disk_offering=_disk_offering(call),
        size_gb=call.get("size"),
        root_disk_gb=call.get("rootdisksize"),
        details=_details(call.get("details")),
        user_data=call.get("userdata"),
        network_uuids=tuple(call.get("networkids") or ()),
        ip_address=call.get("ipaddress"),
    )
    vm = _acted_on(call, vms.create(call.session, call.who, owner(call), new, call.now))
    vm_keys.give(call.session, vm, vm_keys.names_of(call.get("keypair"), call.get("keypairs")))
    if call.get("group"):
        instance_groups.assign(call.session, vm.id, vm.account_id, call.get("group"))
    return jobs.Instance(RESOURCE_TYPE, vm.id, vm.uuid)


def deploy(call: registry.Call) -> responses.Reply:
    vm = _the_vm(call)
    if call.get("startvm", True):
        job = _job(call)
        host = _host_arg(call)
        ask = vm_start.Start(call.who, host.id if host else None, first_deploy=True)
        vm = vm_start.start(call.session, job.sessions, call.services, job, vm.id, ask)
    return _answer(call, vm)


# --- lifecycle ---------------------------------------------------------------------------------


def find_vm(call: registry.Call) -> jobs.Instance:
    """At submit: the VM must exist within the caller's reach (431 before any job)."""
    vm = _acted_on(call, vms.by_uuid(call.session, call.who, call.get("id")))
    return jobs.Instance(RESOURCE_TYPE, vm.id, vm.uuid)


def start(call: registry.Call) -> responses.Reply:
    vm = _the_vm(call)
    job = _job(call)
    host = _host_arg(call)
    ask = vm_start.Start(call.who, host.id if host else None)
    vm = vm_start.start(call.session, job.sessions, call.services, job, vm.id, ask)
    return _answer(call, vm)


def stop(call: registry.Call) -> responses.Reply:
    vm = _the_vm(call)
    fleet = call.services.need_agents()
    forced = bool(call.get("forced", False))
    vm = vm_stop.stop(call.session, fleet, _job(call), vm.id, call.who, forced=forced)
    return _answer(call, vm)


def reboot(call: registry.Call) -> responses.Reply:
    vm = _the_vm(call)
    vm = vm_stop.reboot(call.session, call.services.need_agents(), _job(call), vm.id)
    return _answer(call, vm)


def _check_expunge_right(call: registry.Call, account_id: int) -> None:
    """Users expunge and recover only where ``allow.user.expunge.recover.vm`` says so."""
    if call.who.is_root_admin or call.who.is_domain_admin:
        return
    allowed = settings.Settings(call.session).get(
        keys.ALLOW_USER_EXPUNGE_RECOVER_VM, account_id=account_id
    )
    if not allowed:
        raise errors.PermissionDenied(
            "Parameter expunge can be passed by Admin only or when "
            "allow.user.expunge.recover.vm is true"
        )


def _volume_ids(call: registry.Call, vm: models.VmInstance) -> list[int]:
    ids: list[int] = []
    for uuid in call.get("volumeids") or []:
        found = call.session.scalar(
            sa.select(storage_models.Volume.id).where(storage_models.Volume.uuid == uuid)
        )
        ids.append(int(found) if found is not None else -1)
    vm_destroy.check_volumes(call.session, vm, ids)
    return ids


def ask_destroy(call: registry.Call) -> jobs.Instance:
    vm = _acted_on(call, vms.by_uuid(call.session, call.who, call.get("id")))
    if call.get("expunge", False):
        _check_expunge_right(call, vm.account_id)
    _volume_ids(call, vm)
    return jobs.Instance(RESOURCE_TYPE, vm.id, vm.uuid)


def destroy(call: registry.Call) -> responses.Reply:
    vm = _the_vm(call)
    vm = vm_destroy.destroy(
        call.session,
        call.services.need_agents(),
        _job(call),
        vm.id,
        call.who,
        expunge=bool(call.get("expunge", False)),
        volume_ids=_volume_ids(call, vm),
    )
    return _answer(call, vm)


def ask_expunge(call: registry.Call) -> jobs.Instance:
    vm = _acted_on(call, vms.by_uuid(call.session, call.who, call.get("id")))
    _check_expunge_right(call, vm.account_id)
    return jobs.Instance(RESOURCE_TYPE, vm.id, vm.uuid)


def expunge(call: registry.Call) -> responses.Reply:
    vm = _the_vm(call)
    vm_destroy.expunge(call.session, call.services.need_agents(), _job(call), vm.id, call.who)
    return responses.Success()


def recover(call: registry.Call) -> responses.Reply:
    vm = _acted_on(call, vms.by_uuid(call.session, call.who, call.get("id")))
    _check_expunge_right(call, vm.account_id)
    vm_destroy.recover(call.session, call.who, vm)
    return _answer(call, vm)


def update(call: registry.Call) -> responses.Reply:
    vm = _acted_on(call, vms.by_uuid(call.session, call.who, call.get("id")))
    vms.update(
        call.session,
        vm,
        vms.VmChanges(
            display_name=call.get("displayname"),
            name=call.get("name"),
            details=_details(call.get("details")) if call.get("details") else None,
            user_data=call.get("userdata"),
        ),
    )
    return _answer(call, vm)


def _filter_id(call: registry.Call, name: str, model: Any) -> int | None:
    uuid = call.get(name)
    if uuid is None:
        return None
    found = call.session.scalar(sa.select(model.id).where(model.uuid == uuid))
    return -1 if found is None else int(found)


def list_vms(call: registry.Call) -> responses.Reply:
    admin = call.who.is_root_admin
    ids = call.get("ids")
    wanted = vm_search.VmFilter(
        owners=scope.Wanted(
            domain=domain_arg(call),
            account_name=call.get("account"),
            listall=call.get("listall", False),
            isrecursive=call.get("isrecursive", False),
        ),
        uuid=call.get("id"),
        uuids=tuple(ids) if ids else None,
        name=call.get("name"),
        state=call.get("state"),
        zone_id=_filter_id(call, "zoneid", infrastructure.DataCenter),
        host_id=_filter_id(call, "hostid", infrastructure.Host) if admin else None,
        template_id=_filter_id(call, "templateid", templates.VmTemplate),
        keyword=call.get("keyword"),
    )
    found, total = vm_search.search(call.session, call.who, wanted, paging.page(call))
    return responses.Listing("virtualmachine", views.vm_items(call.session, call.who, found), total)


# --- declarations ------------------------------------------------------------------------------

_ID = P(
    "id", T.UUID, "The ID of the virtual machine", required=True, related=("listVirtualMachines",)
)
_VM = views.VIRTUAL_MACHINE
_ASYNC: dict[str, Any] = {
    "is_async": True,
    "instance_type": RESOURCE_TYPE,
    "on_lost": queue.OnLost.RECOVER,
}

COMMANDS = (
    registry.Command(
        "deployVirtualMachine",
        deploy,
        "Creates and automatically starts a virtual machine based on a service offering, disk "
        "offering, and template.",
        (
            P(
                "zoneid",
                T.UUID,
                "availability zone for the virtual machine",
                required=True,
                related=("listZones",),
            ),
            P(
                "serviceofferingid",
                T.UUID,
                "the ID of the service offering for the virtual machine",
                required=True,
                related=("listServiceOfferings",),
            ),
            P(
                "templateid",
                T.UUID,
                "the ID of the template for the virtual machine",
                related=("listTemplates",),
            ),
            P(
                "diskofferingid",
                T.UUID,
                "the ID of the disk offering for a data disk",
                related=("listDiskOfferings",),
            ),
            P("size", T.LONG, "the arbitrary size for the DATADISK volume (GB)"),
            P("rootdisksize", T.LONG, "Optional field to resize root disk on deploy (GB)"),
            P(
                "hostid",
                T.UUID,
                "destination Host ID to deploy the VM to (root admins)",
                related=("listHosts",),
            ),
            P("name", T.STRING, "host name for the virtual machine"),
            P("displayname", T.STRING, "an optional user generated name for the virtual machine"),
            P(
                "details",
                T.MAP,
                "used to specify the custom parameters (cpuNumber, cpuSpeed, "
                "memory, rootdisksize, ...)",
            ),
            P(
                "userdata",
                T.STRING,
                "an optional binary data that can be sent to the virtual "
                "machine upon a successful deployment (base64)",
                length=1_048_576,
            ),
            P(
                "networkids",
                T.LIST,
                "list of network ids used by virtual machine",
                item_type=T.UUID,
            ),
            P("ipaddress", T.STRING, "the ip address for default vm's network"),
            P("startvm", T.BOOLEAN, "true by default: start the VM once it is created"),
            P("account", T.STRING, "an optional account for the virtual machine (with domainid)"),
            P(
                "domainid",
                T.UUID,
                "an optional domainId for the virtual machine",
                related=("listDomains",),
            ),
            P(
                "keypair",
                T.STRING,
                "name of the ssh key pair (recorded on the VM; not yet handed to the guest)",
            ),
            P("keypairs", T.LIST, "names of the ssh key pairs (recorded, as keypair)"),
            P("group", T.STRING, "an optional group for the virtual machine"),
            P("affinitygroupids", T.LIST, "affinity groups (not supported yet)"),
            P("securitygroupids", T.LIST, "security groups (not supported yet)"),
        ),
        _VM,
        creates=True,
        event="VM.CREATE",
        prepare=allocate,
        **_ASYNC,
    ),
    registry.Command(
        "startVirtualMachine",
        start,
        "Starts a virtual machine.",
        (_ID, P("hostid", T.UUID, "destination Host ID to start the VM on (root admins)")),
        _VM,
        event="VM.START",
        prepare=find_vm,
        **_ASYNC,
    ),
    registry.Command(
        "stopVirtualMachine",
        stop,
        "Stops a virtual machine.",
        (
            _ID,
            P(
                "forced",
                T.BOOLEAN,
                "Force stop the VM (vm is marked as Stopped even when "
                "command fails to be send to the backend)",
            ),
        ),
        _VM,
        event="VM.STOP",
        prepare=find_vm,
        **_ASYNC,
    ),
    registry.Command(
        "rebootVirtualMachine",
        reboot,
        "Reboots a virtual machine.",
        (_ID,),
        _VM,
        event="VM.REBOOT",
        prepare=find_vm,
        **_ASYNC,
    ),
    registry.Command(
        "destroyVirtualMachine",
        destroy,
        "Destroys a virtual machine.",
        (
            _ID,
            P("expunge", T.BOOLEAN, "If true is passed, the vm is expunged immediately"),
            P(
                "volumeids",
                T.LIST,
                "Comma separated list of UUIDs for volumes that will be deleted",
                item_type=T.UUID,
            ),
        ),
        _VM,
        event="VM.DESTROY",
        prepare=ask_destroy,
        **_ASYNC,
    ),
    registry.Command(
        "expungeVirtualMachine",
        expunge,
        "Expunge a virtual machine. Once expunged, it cannot be recoverd.",
        (_ID,),
        event="VM.EXPUNGE",
        prepare=ask_expunge,
        **_ASYNC,
    ),
    registry.Command(
        "recoverVirtualMachine",
        recover,
        "Recovers a virtual machine.",
        (_ID,),
        _VM,
        event="VM.RECOVER",
    ),
    registry.Command(
        "updateVirtualMachine",
        update,
        "Updates properties of a virtual machine.",
        (
            _ID,
            P("displayname", T.STRING, "user generated name"),
            P("name", T.STRING, "new host name of the vm (the VM must be stopped)"),
            P("details", T.MAP, "Details in key/value pairs"),
            P("userdata", T.STRING, "an optional binary data (base64)", length=1_048_576),
        ),
        _VM,
        event="VM.UPDATE",
    ),
    registry.Command(
        "listVirtualMachines",
        list_vms,
        "List the virtual machines owned by the account.",
        (
            P("id", T.UUID, "the ID of the virtual machine", related=("listVirtualMachines",)),
            P("ids", T.LIST, "the IDs of the virtual machines", item_type=T.UUID),
            P("name", T.STRING, "name of the virtual machine"),
            P("state", T.STRING, "state of the virtual machine"),
            P("zoneid", T.UUID, "the availability zone ID", related=("listZones",)),
            P("hostid", T.UUID, "the host ID (admins)", related=("listHosts",)),
            P("templateid", T.UUID, "list vms by template", related=("listTemplates",)),
            P("account", T.STRING, "list resources by account (with domainid)"),
            P("domainid", T.UUID, "list only resources belonging to the domain specified"),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        _VM,
    ),
)
