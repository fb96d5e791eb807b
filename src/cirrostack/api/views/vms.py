"""The ``virtualmachine`` response object: spec and serializer side by side.

Field names are CloudStack's (reference compute §4): ``memory`` in MB, ``cpuspeed`` MHz,
``nic`` always present (libcloud requires the key), ``tags``/``affinitygroup``/
``securitygroup`` as empty lists, ``details`` a map, ``hostid``/``hostname`` for admins and
``instancename`` for root admins only, ``jobid``/``jobstatus`` while a job works on the VM.
A page reads each related kind in one query, whatever its size (``batch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import access
from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.api.views import networks as network_views
from cirrostack.compute import instance_groups, vm_keys
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import (
    attachments,
    compute,
    guest_os,
    infrastructure,
    offerings,
    templates,
)
from cirrostack.db.models import jobs as job_models
from cirrostack.db.models import network as network_models
from cirrostack.jobs import queue
from cirrostack.network import nics
from cirrostack.tagging import tags

_S, _B, _L, _I, _D = "string", "boolean", "long", "integer", "date"

VIRTUAL_MACHINE = ObjectSpec(
    "virtualmachine",
    (
        Field("id", _S, "the ID of the virtual machine"),
        Field("name", _S, "the name of the virtual machine"),
        Field(
            "displayname",
            _S,
            "user generated name (the name of the virtual machine when none was given)",
        ),
        Field("state", _S, "the state of the virtual machine"),
        Field("zoneid", _S, "the ID of the availability zone for the virtual machine"),
        Field("zonename", _S, "the name of the availability zone for the virtual machine"),
        Field("templateid", _S, "the ID of the template for the virtual machine"),
        Field("templatename", _S, "the name of the template for the virtual machine"),
        Field("templatedisplaytext", _S, "an alternate display text of the template"),
        Field("serviceofferingid", _S, "the ID of the service offering of the virtual machine"),
        Field("serviceofferingname", _S, "the name of the service offering of the VM"),
        Field("diskofferingid", _S, "the ID of the disk offering of the virtual machine"),
        Field("diskofferingname", _S, "the name of the disk offering of the virtual machine"),
        Field("cpunumber", _I, "the number of vCPUs this virtual machine is using"),
        Field("cpuspeed", _I, "the speed of each vCPU"),
        Field("memory", _I, "the memory allocated for the virtual machine"),
        Field("hypervisor", _S, "the hypervisor on which the template runs"),
        Field("hostid", _S, "the ID of the host for the virtual machine"),
        Field("hostname", _S, "the name of the host for the virtual machine"),
        Field("instancename", _S, "instance name of the user vm; root admins only"),
        Field("guestosid", _S, "Os type ID of the virtual machine"),
        Field("ostypeid", _S, "OS type id of the vm"),
        Field("rootdeviceid", _L, "device ID of the root volume"),
        Field("rootdevicetype", _S, "device type of the root volume"),
        Field("created", _D, "the date when this virtual machine was created"),
        Field("account", _S, "the account associated with the virtual machine"),
        Field("domainid", _S, "the ID of the domain in which the virtual machine exists"),
        Field("domain", _S, "the name of the domain in which the virtual machine exists"),
        Field("userid", _S, "the user's ID who deployed the virtual machine"),
        Field("username", _S, "the user's name who deployed the virtual machine"),
        Field("passwordenabled", _B, "true if the password rest feature is enabled"),
        Field("haenable", _B, "true if high-availability is enabled, false otherwise"),
        Field("isdynamicallyscalable", _B, "true if vm contains XS/VMWare tools"),
        Field("displayvm", _B, "an optional field whether to the display the vm to the end user"),
        Field("details", "map", "Vm details in key/value pairs."),
        Field("nic", "set", "the list of nics associated with vm"),
        Field("tags", "set", "the list of resource tags associated"),
        Field("group", _S, "the group name of the virtual machine"),
        Field("groupid", _S, "the group ID of the virtual machine"),
        Field("keypairs", _S, "the names of the SSH key pairs of the virtual machine"),
        Field(
            "affinitygroup", "set", "list of affinity groups associated with the virtual machine"
        ),
        Field(
            "securitygroup", "set", "list of security groups associated with the virtual machine"
        ),
        Field("jobid", _S, "shows the current pending asynchronous job ID"),
        Field("jobstatus", _I, "shows the current pending asynchronous job status"),
    ),
)


@dataclass(frozen=True)
class _Related:
    user_vms: dict[int, compute.UserVm]
    zones: dict[int, infrastructure.DataCenter]
    templates: dict[int, templates.VmTemplate]
    offerings: dict[int, offerings.ServiceOffering]
    hosts: dict[int, infrastructure.Host]
    oses: dict[int, guest_os.GuestOs]
    accounts: dict[int, account_models.Account]
    domains: dict[int, account_models.Domain]
    users: dict[int, account_models.User]
    details: dict[int, dict[str, str]]
    jobs: dict[int, str]
    nics: dict[int, list[dict[str, Any]]]
    tags: dict[int, list[dict[str, Any]]]
    groups: dict[int, attachments.InstanceGroup]
    keypairs: dict[int, str]


def vm_item(session: Session, caller: access.Caller, vm: compute.VmInstance) -> dict[str, Any]:
    return vm_items(session, caller, [vm])[0]


def vm_items(
    session: Session, caller: access.Caller, found: Sequence[compute.VmInstance]
) -> list[dict[str, Any]]:
    """VMs as answers show them (listVirtualMachines and every VM command's job)."""
    ids = [vm.id for vm in found]
    related = _Related(
        user_vms=batch.by_id(session, compute.UserVm, ids),  # type: ignore[type-var]
        zones=batch.by_id(session, infrastructure.DataCenter, [v.data_center_id for v in found]),
        templates=batch.by_id(session, templates.VmTemplate, [v.vm_template_id for v in found]),
        offerings=batch.by_id(
            session, offerings.ServiceOffering, [v.service_offering_id for v in found]
        ),
        hosts=batch.by_id(session, infrastructure.Host, [v.host_id for v in found]),
        oses=batch.by_id(session, guest_os.GuestOs, [v.guest_os_id for v in found]),
        accounts=batch.by_id(session, account_models.Account, [v.account_id for v in found]),
        domains=batch.by_id(session, account_models.Domain, [v.domain_id for v in found]),
        users=batch.by_id(session, account_models.User, [v.user_id for v in found]),
        details=_details(session, ids),
        jobs=_pending_jobs(session, ids),
        nics=_nics(session, ids),
        tags=tags.tags_for(session, "UserVm", ids),
        groups=instance_groups.of_vms(session, ids),
        keypairs=_keypairs(session, ids),
    )
    return [_vm(vm, related, caller) for vm in found]


def _nics(session: Session, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The CloudStack ``nic`` objects of each VM, in two queries whatever the count."""
    found = nics.for_vms(session, ids)
    every = [nic for listed in found.values() for nic in listed]
    by_id = batch.by_id(session, network_models.Network, [nic.network_id for nic in every])
    return {vm_id: network_views.nic_items(listed, by_id) for vm_id, listed in found.items()}


def _details(session: Session, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    if not ids:
        return found
    detail = compute.UserVmDetail
    rows = session.scalars(sa.select(detail).where(detail.vm_id.in_(ids), detail.display.is_(True)))
    for row in rows:
        found.setdefault(row.vm_id, {})[row.name] = row.value
    return found


def _keypairs(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The key pair names each VM was given (a hidden detail, as CloudStack keeps them)."""
    if not ids:
        return {}
    detail = compute.UserVmDetail
    rows = session.execute(
        sa.select(detail.vm_id, detail.value).where(
            detail.vm_id.in_(ids), detail.name == vm_keys.NAMES_DETAIL
        )
    )
    return {int(vm_id): str(value) for vm_id, value in rows}


def _pending_jobs(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The unfinished job of each VM (its oldest), in one query."""
    if not ids:
        return {}
    job = job_models.AsyncJob
    rows = session.execute(
        sa.select(job.instance_id, job.uuid)
        .where(
            job.instance_type == "VirtualMachine",
            job.instance_id.in_(ids),
            job.job_status == int(queue.Status.IN_PROGRESS),
        )
        .order_by(job.id.desc())
    )
    return {int(instance or 0): str(uuid) for instance, uuid in rows}


def _vm(vm: compute.VmInstance, related: _Related, caller: access.Caller) -> dict[str, Any]:
    user_vm = related.user_vms.get(vm.id)
    zone = related.zones[vm.data_center_id]
    template = related.templates.get(vm.vm_template_id) if vm.vm_template_id else None
    offering = related.offerings[vm.service_offering_id]
    host = related.hosts.get(vm.host_id) if vm.host_id else None
    os = related.oses.get(vm.guest_os_id)
    account = related.accounts[vm.account_id]
    domain = related.domains[vm.domain_id]
    user = related.users.get(vm.user_id) if vm.user_id else None
    details = related.details.get(vm.id, {})
    group = related.groups.get(vm.id)
    item: dict[str, Any] = {
        "id": vm.uuid,
        "name": vm.name,
        "displayname": (user_vm.display_name if user_vm else None) or vm.name,
        "state": vm.state,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "templateid": template.uuid if template else None,
        "templatename": template.name if template else None,
        "templatedisplaytext": template.display_text if template else None,
        "serviceofferingid": offering.uuid,
        "serviceofferingname": offering.name,
        "cpunumber": offering.cpu or _whole(details.get("cpuNumber")),
        "cpuspeed": offering.speed or _whole(details.get("cpuSpeed")),
        "memory": offering.ram_size or _whole(details.get("memory")),
        "hypervisor": vm.hypervisor_type,
        "guestosid": os.uuid if os else None,
        "ostypeid": os.uuid if os else None,
        "rootdeviceid": 0,
        "rootdevicetype": "ROOT",
        "created": responses.date(vm.created),
        "account": account.account_name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "userid": user.uuid if user else None,
        "username": user.username if user else None,
        "passwordenabled": bool(template.enable_password) if template else False,
        "haenable": vm.ha_enabled,
        "isdynamicallyscalable": vm.dynamically_scalable,
        "displayvm": vm.display_vm,
        "details": details,
        "nic": related.nics.get(vm.id, []),
        "tags": related.tags.get(vm.id, []),
        "group": group.name if group else None,
        "groupid": group.uuid if group else None,
        "keypairs": related.keypairs.get(vm.id),
        "affinitygroup": [],
        "securitygroup": [],
    }
    job = related.jobs.get(vm.id)
    if job is not None:
        item["jobid"], item["jobstatus"] = job, 0
    if caller.is_root_admin or caller.is_domain_admin:
        item["hostid"] = host.uuid if host else None
        item["hostname"] = host.name if host else None
    if caller.is_root_admin:
        item["instancename"] = vm.instance_name
    return responses.compact(item)


def _whole(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None
