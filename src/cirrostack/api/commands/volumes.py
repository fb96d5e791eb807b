"""createVolume, listVolumes, updateVolume, resizeVolume, deleteVolume.

createVolume is async and create-type as in CloudStack: the request records the volume
(Allocated, no pool, limits reserved) and answers its ``id`` with the ``jobid``; the job
answers the volume. deleteVolume is sync (libcloud calls it so). The storage work of a volume
on a pool is ``storage.volume_create`` / ``storage.volume_delete``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import reach, scope
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.api.views import volumes as views
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import compute, infrastructure
from cirrostack.db.models import offerings as offering_models
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import zones
from cirrostack.jobs import context
from cirrostack.offerings import disk_offerings
from cirrostack.offerings import scope as offering_scope
from cirrostack.states import bindings
from cirrostack.storage import volume_create, volume_delete, volume_resize, volumes

#: The jobs' instance type: the volume binding's resource type, which the reaper matches.
RESOURCE_TYPE = bindings.VOLUME.resource_type


def acted_on(call: registry.Call, volume: models.Volume) -> models.Volume:
    call.acted_on = ("Volume", volume.id, volume.name or volume.uuid)
    return volume


def _answer(call: registry.Call, volume: models.Volume) -> responses.Reply:
    return responses.Single("volume", views.volume_item(call.session, call.who, volume))


def owner(call: registry.Call) -> account_models.Account:
    """The account the volume is for: ``account`` (+ ``domainid``) if the caller reaches it,
    else the caller's own; an account out of reach is answered like an unknown one."""
    name = call.get("account")
    domain = domain_arg(call)
    if name is None:
        if domain is not None and domain.id != call.who.domain_id:
            raise errors.InvalidParameterValue("Specify account together with domainid")
        return call.session.get_one(account_models.Account, call.who.account_id)
    if domain is None:
        domain = call.session.get_one(account_models.Domain, call.who.domain_id)
    found = reach.account_by_name(call.session, call.who, name, domain)
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find account {name} in domain {domain.uuid}")
    return found


def _offering(call: registry.Call, zone_id: int) -> Any:
    uuid = call.get("diskofferingid")
    offering = disk_offerings.by_uuid(call.session, uuid, parameter="diskofferingid")
    if not offering_scope.sees(call.session, call.who, offering_scope.DISK, offering.id):
        raise disk_offerings.unknown(uuid, "diskofferingid")
    usable = offering_scope.usable_in(offering_scope.DISK, sa.literal(offering.id), _zone(call))
    if call.session.scalar(sa.select(sa.literal(1)).where(usable)) is None:
        raise errors.InvalidParameterValue(
            f"Disk offering {uuid} is not available in zone {call.get('zoneid')}"
        )
    return offering


def _zone(call: registry.Call) -> Any:
    return zones.by_uuid(call.session, call.get("zoneid"), "zoneid")


def allocate(call: registry.Call) -> jobs.Instance:
    """At submit: every check, then the volume recorded Allocated with its limits reserved."""
    if call.get("snapshotid") is not None:
        raise errors.InvalidParameterValue(
            "createVolume from a snapshot (snapshotid) is not supported yet: snapshots come "
            "in a later release"
        )
    if call.get("virtualmachineid") is not None:
        raise errors.InvalidParameterValue(
            "createVolume with virtualmachineid is not supported yet: create the volume, then "
            "attach it when VMs exist"
        )
    if call.get("diskofferingid") is None:
        raise errors.InvalidParameterValue("Either diskofferingid or snapshotid must be passed")
    if call.get("zoneid") is None:
        raise errors.InvalidParameterValue(
            "Please specify zoneid for a volume from a disk offering"
        )
    zone = _zone(call)
    new = volumes.NewVolume(
        name=call.get("name"),
        offering=_offering(call, zone.id),
        zone=zone,
        size_gb=call.get("size"),
        min_iops=call.get("miniops"),
        max_iops=call.get("maxiops"),
        display=call.get("displayvolume", True),
    )
    pool = _target_pool(call)
    volume = volumes.create(call.session, call.who, owner(call), new, call.now)
    if pool is not None:
        volume_create.check_pool(call.session, volume, pool)
    acted_on(call, volume)
    return jobs.Instance(RESOURCE_TYPE, volume.id, volume.uuid)


def _target_pool(call: registry.Call) -> models.StoragePool | None:
    """createVolume's ``storageid``: root admins only (as CloudStack's 4.22 parameter)."""
    if call.get("storageid") is not None and not call.who.is_root_admin:
        raise errors.PermissionDenied("Only a root admin may create a volume on a given pool")
    return _pool(call)


def create_volume(call: registry.Call) -> responses.Reply:
    """In the job: the volume as recorded (Allocated until a VM deployment or attach places
    it, as in CloudStack), or, with ``storageid``, created on that pool and Ready."""
    if call.instance_id is None:
        raise RuntimeError("createVolume's job runs without the volume it created")
    volume = acted_on(call, call.session.get_one(models.Volume, call.instance_id))
    pool = _target_pool(call)
    if pool is not None:
        job = call.job
        if not isinstance(job, context.JobContext):
            raise RuntimeError("createVolume on a pool runs only as a job")
        volume = volume_create.create_on_pool(
            call.session, job.sessions, call.services, job, volume, pool
        )
    return _answer(call, volume)


def _filter_id(call: registry.Call, name: str, model: Any) -> int | None:
    """An id filter: None when not given; an unknown id matches nothing (no oracle)."""
    uuid = call.get(name)
    if uuid is None:
        return None
    found = call.session.scalar(sa.select(model.id).where(model.uuid == uuid))
    return -1 if found is None else int(found)


def list_volumes(call: registry.Call) -> responses.Reply:
    admin = call.who.is_root_admin
    wanted = volumes.VolumeFilter(
        owners=scope.Wanted(
            domain=domain_arg(call),
            account_name=call.get("account"),
            listall=call.get("listall", False),
            isrecursive=call.get("isrecursive", False),
        ),
        uuid=call.get("id"),
        name=call.get("name"),
        keyword=call.get("keyword"),
        zone_id=_filter_id(call, "zoneid", infrastructure.DataCenter),
        pod_id=_filter_id(call, "podid", infrastructure.HostPod),
        pool_id=_filter_id(call, "storageid", models.StoragePool) if admin else None,
        instance_id=_filter_id(call, "virtualmachineid", compute.VmInstance),
        disk_offering_id=_filter_id(call, "diskofferingid", offering_models.DiskOffering),
        volume_type=call.get("type"),
        state=call.get("state"),
        display=call.get("displayvolume"),
    )
    found, total = volumes.search(call.session, call.who, wanted, paging.page(call))
    return responses.Listing("volume", views.volume_items(call.session, call.who, found), total)


def find_volume(call: registry.Call) -> jobs.Instance:
    """At submit: the volume must exist within the caller's reach (431 before any job)."""
    volume = acted_on(call, volumes.by_uuid(call.session, call.who, call.get("id")))
    return jobs.Instance(RESOURCE_TYPE, volume.id, volume.uuid)


def _pool(call: registry.Call) -> models.StoragePool | None:
    uuid = call.get("storageid")
    if uuid is None:
        return None
    pool = call.session.scalars(
        sa.select(models.StoragePool).where(
            models.StoragePool.uuid == uuid, models.StoragePool.removed.is_(None)
        )
    ).first()
    if pool is None:
        raise errors.InvalidParameterValue(f"Unable to find storage pool with storageid {uuid}")
    return pool


def update_volume(call: registry.Call) -> responses.Reply:
    volume = acted_on(call, volumes.by_uuid(call.session, call.who, call.get("id")))
    changes = volumes.VolumeChanges(
        name=call.get("name"),
        display=call.get("displayvolume"),
        path=call.get("path"),
        pool=_pool(call),
        state=call.get("state"),
    )
    volumes.update(call.session, call.who, volume, changes)
    return _answer(call, volume)


def remove_file(before: registry.Before) -> volume_delete.Removed | None:
    """deleteVolume's ``before`` step: a volume on a pool goes Destroy and its file is
    deleted there, with no transaction open during the DeleteCommand."""
    uuid = before.args.get("id")
    if before.caller is None or not isinstance(uuid, str):
        return None
    return volume_delete.remove_file(before.sessions, before.services, before.caller, uuid)


def delete_volume(call: registry.Call) -> responses.Reply:
    volume = acted_on(call, volumes.by_uuid(call.session, call.who, call.get("id")))
    volume_delete.delete(call.session, call.who, volume, call.prepared, call.now)
    return responses.Success()


def _resize(call: registry.Call) -> volume_resize.Resize:
    uuid = call.get("diskofferingid")
    offering = None
    if uuid is not None:
        offering = disk_offerings.by_uuid(call.session, uuid, parameter="diskofferingid")
        if not offering_scope.sees(call.session, call.who, offering_scope.DISK, offering.id):
            raise disk_offerings.unknown(uuid, "diskofferingid")
    return volume_resize.Resize(
        size_gb=call.get("size"), offering=offering, shrink_ok=call.get("shrinkok", False)
    )


def ask_resize(call: registry.Call) -> jobs.Instance:
    """At submit: the checks, the reservation and claim, Resizing (or the whole resize of an
    Allocated volume)."""
    volume = acted_on(call, volumes.by_uuid(call.session, call.who, call.get("id")))
    volume_resize.begin(call.session, call.who, volume, _resize(call))
    return jobs.Instance(RESOURCE_TYPE, volume.id, volume.uuid)


def resize_volume(call: registry.Call) -> responses.Reply:
    volume = acted_on(call, volumes.by_uuid(call.session, call.who, call.get("id")))
    done = volume_resize.finish(
        call.session, call.services, call.job, volume, _resize(call), call.now
    )
    return _answer(call, done)


# --- declarations ----------------------------------------------------------------------------

_ID = P("id", T.UUID, "the ID of the disk volume", required=True, related=("listVolumes",))

COMMANDS = (
    registry.Command(
        "createVolume",
        create_volume,
        "Creates a disk volume from a disk offering. This disk volume must still be attached "
        "to a virtual machine to make use of it.",
        (
            P("name", T.STRING, "the name of the disk volume"),
            P(
                "diskofferingid",
                T.UUID,
                "the ID of the disk offering (either diskofferingid or snapshotid)",
                related=("listDiskOfferings",),
            ),
            P("size", T.LONG, "Arbitrary volume size in GB (custom-size disk offerings only)"),
            P("zoneid", T.UUID, "the ID of the availability zone", related=("listZones",)),
            P("account", T.STRING, "the account of the disk volume (with domainid)"),
            P("domainid", T.UUID, "the domain of the account", related=("listDomains",)),
            P("displayvolume", T.BOOLEAN, "an optional field, whether to display the volume"),
            P("miniops", T.LONG, "min iops (custom-IOPS disk offerings only)"),
            P("maxiops", T.LONG, "max iops (custom-IOPS disk offerings only)"),
            P("snapshotid", T.UUID, "the snapshot ID for the disk volume (not supported yet)"),
            P("virtualmachineid", T.UUID, "the VM to attach the volume to (not supported yet)"),
            P(
                "storageid",
                T.UUID,
                "Storage pool ID to create the volume in (root admins; the volume is Ready on "
                "it when the job ends). Can not be specified with SnapshotId parameter.",
                related=("listStoragePools",),
            ),
        ),
        views.VOLUME,
        is_async=True,
        creates=True,
        instance_type=RESOURCE_TYPE,
        event="VOLUME.CREATE",
        prepare=allocate,
    ),
    registry.Command(
        "listVolumes",
        list_volumes,
        "Lists all volumes.",
        (
            P("id", T.UUID, "the ID of the disk volume", related=("listVolumes",)),
            P("name", T.STRING, "the name of the disk volume"),
            P("zoneid", T.UUID, "the ID of the availability zone", related=("listZones",)),
            P("podid", T.UUID, "the pod id the disk volume belongs to", related=("listPods",)),
            P("storageid", T.UUID, "the ID of the storage pool (root admins only)"),
            P("virtualmachineid", T.UUID, "the ID of the virtual machine"),
            P("diskofferingid", T.UUID, "list volumes of this disk offering"),
            P("type", T.STRING, "the type of disk volume (ROOT or DATADISK)"),
            P("state", T.STRING, "state of the volume: Allocated, Ready, Destroy, ..."),
            P("displayvolume", T.BOOLEAN, "list resources by display flag (admins only)"),
            P("account", T.STRING, "list resources by account (with domainid)"),
            P("domainid", T.UUID, "list only resources belonging to the domain specified"),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        views.VOLUME,
    ),
    registry.Command(
        "updateVolume",
        update_volume,
        "Updates the volume.",
        (
            _ID,
            P("name", T.STRING, "new name of the volume"),
            P("displayvolume", T.BOOLEAN, "an optional field, whether to display the volume"),
            P("path", T.STRING, "the path of the volume (root admins only)"),
            P("storageid", T.UUID, "destination storage pool of the volume (root admins only)"),
            P("state", T.STRING, "the state of the volume (root admins only)"),
        ),
        views.VOLUME,
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="VOLUME.UPDATE",
        prepare=find_volume,
    ),
    registry.Command(
        "resizeVolume",
        resize_volume,
        "Resizes a volume.",
        (
            _ID,
            P("size", T.LONG, "New volume size in GB (custom disk offerings)"),
            P("diskofferingid", T.UUID, "new disk offering id", related=("listDiskOfferings",)),
            P("shrinkok", T.BOOLEAN, "Verify OK to Shrink (refused for qcow2 volumes)"),
        ),
        views.VOLUME,
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="VOLUME.RESIZE",
        prepare=ask_resize,
    ),
    registry.Command(
        "deleteVolume",
        delete_volume,
        "Deletes a detached disk volume.",
        (_ID,),
        event="VOLUME.DELETE",
        before=remove_file,
    ),
)
