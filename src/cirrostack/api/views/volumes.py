"""The ``volume`` response object: spec and serializer side by side.

Field names and units are CloudStack's (4.18): ``size`` in bytes, ``created`` as its dates,
``attached`` present only when the volume is attached (Ansible's cs_volume tests for the key),
``storage``/``storageid`` and ``path`` for admins only. A page of volumes reads its zones, pods,
pools, offerings, VMs, accounts and domains in one query each, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.accounts import access
from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import compute, infrastructure, offerings, templates
from cirrostack.db.models import storage as models
from cirrostack.storage import volume_store
from cirrostack.tagging import tags

_S, _B, _L, _D = "string", "boolean", "long", "date"

VOLUME = ObjectSpec(
    "volume",
    (
        Field("id", _S, "ID of the disk volume"),
        Field("name", _S, "name of the disk volume"),
        Field("zoneid", _S, "ID of the availability zone"),
        Field("zonename", _S, "name of the availability zone"),
        Field("podid", _S, "ID of the pod"),
        Field("podname", _S, "name of the pod"),
        Field("type", _S, "type of the disk volume (ROOT or DATADISK)"),
        Field("deviceid", _L, "the ID of the device on user vm the volume is attahed to"),
        Field("virtualmachineid", _S, "id of the virtual machine"),
        Field("vmname", _S, "name of the virtual machine"),
        Field("vmdisplayname", _S, "display name of the virtual machine"),
        Field("vmstate", _S, "state of the virtual machine"),
        Field("size", _L, "size of the disk volume in bytes"),
        Field("miniops", _L, "min iops of the disk volume"),
        Field("maxiops", _L, "max iops of the disk volume"),
        Field("created", _D, "the date the disk volume was created"),
        Field("attached", _D, "the date the volume was attached to a VM instance"),
        Field("state", _S, "the state of the disk volume"),
        Field("status", _S, "the status of the volume (an upload's progress or error)"),
        Field("account", _S, "the account associated with the disk volume"),
        Field("domainid", _S, "the ID of the domain associated with the disk volume"),
        Field("domain", _S, "the domain associated with the disk volume"),
        Field("storagetype", _S, "shared or local storage"),
        Field("hypervisor", _S, "Hypervisor the volume belongs to"),
        Field("diskofferingid", _S, "ID of the disk offering"),
        Field("diskofferingname", _S, "name of the disk offering"),
        Field("diskofferingdisplaytext", _S, "the display text of the disk offering"),
        Field("storage", _S, "name of the primary storage hosting the disk volume"),
        Field("storageid", _S, "id of the primary storage hosting the disk volume"),
        Field("path", _S, "the path of the volume"),
        Field("provisioningtype", _S, "provisioning type used to create volumes"),
        Field("templateid", _S, "the ID of the template the volume was created from"),
        Field("destroyed", _B, "the boolean state of whether the volume is destroyed or not"),
        Field("isextractable", _B, "true if the volume is extractable, false otherwise"),
        Field("displayvolume", _B, "an optional field whether to the display the volume"),
        Field("quiescevm", _B, "need quiesce vm or not when taking snapshot"),
        Field("supportsstoragesnapshot", _B, "true if storage snapshot is supported"),
        Field("jobid", _S, "shows the current pending asynchronous job ID"),
        Field("tags", "set", "the list of resource tags associated"),
    ),
)


@dataclass(frozen=True)
class _Related:
    zones: dict[int, infrastructure.DataCenter]
    pods: dict[int, infrastructure.HostPod]
    pools: dict[int, models.StoragePool]
    offerings: dict[int, offerings.DiskOffering]
    vms: dict[int, compute.VmInstance]
    accounts: dict[int, account_models.Account]
    domains: dict[int, account_models.Domain]
    templates: dict[int, templates.VmTemplate]
    uploads: dict[int, volume_store.Ref]
    tags: dict[int, list[dict[str, Any]]]


def volume_item(session: Session, caller: access.Caller, volume: models.Volume) -> dict[str, Any]:
    return volume_items(session, caller, [volume])[0]


def volume_items(
    session: Session, caller: access.Caller, found: Sequence[models.Volume]
) -> list[dict[str, Any]]:
    """Volumes as answers show them (listVolumes, createVolume's job, updateVolume)."""
    related = _Related(
        zones=batch.by_id(session, infrastructure.DataCenter, [v.data_center_id for v in found]),
        pods=batch.by_id(session, infrastructure.HostPod, [v.pod_id for v in found]),
        pools=batch.by_id(session, models.StoragePool, [v.pool_id for v in found]),
        offerings=batch.by_id(session, offerings.DiskOffering, [v.disk_offering_id for v in found]),
        vms=batch.by_id(session, compute.VmInstance, [v.instance_id for v in found]),
        accounts=batch.by_id(session, account_models.Account, [v.account_id for v in found]),
        domains=batch.by_id(session, account_models.Domain, [v.domain_id for v in found]),
        templates=batch.by_id(session, templates.VmTemplate, [v.template_id for v in found]),
        uploads=volume_store.uploads_of(session, [v.id for v in found]),
        tags=tags.tags_for(session, "Volume", [v.id for v in found]),
    )
    admin = caller.is_root_admin
    return [_volume(volume, related, admin) for volume in found]


def _volume(volume: models.Volume, related: _Related, admin: bool) -> dict[str, Any]:
    zone = related.zones[volume.data_center_id]
    offering = related.offerings.get(volume.disk_offering_id)
    pool = related.pools.get(volume.pool_id) if volume.pool_id else None
    pod = related.pods.get(volume.pod_id) if volume.pod_id else None
    vm = related.vms.get(volume.instance_id) if volume.instance_id else None
    template = related.templates.get(volume.template_id) if volume.template_id else None
    account = related.accounts[volume.account_id]
    domain = related.domains[volume.domain_id]
    item: dict[str, Any] = {
        "id": volume.uuid,
        "name": volume.name,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "podid": pod.uuid if pod else None,
        "podname": pod.name if pod else None,
        "type": volume.volume_type,
        "deviceid": volume.device_id if vm else None,
        "virtualmachineid": vm.uuid if vm else None,
        "vmname": vm.name if vm else None,
        "vmdisplayname": vm.name if vm else None,
        "vmstate": vm.state if vm else None,
        "size": volume.size,
        "miniops": volume.min_iops,
        "maxiops": volume.max_iops,
        "created": responses.date(volume.created),
        "attached": responses.date(volume.attached) if vm else None,
        "state": volume.state,
        "account": account.account_name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "storagetype": "local" if offering is not None and offering.use_local_storage else "shared",
        "hypervisor": (pool.hypervisor if pool and pool.hypervisor else None),
        "diskofferingid": offering.uuid if offering else None,
        "diskofferingname": offering.name if offering else None,
        "diskofferingdisplaytext": offering.display_text if offering else None,
        "provisioningtype": volume.provisioning_type,
        "templateid": template.uuid if template is not None else None,
        "destroyed": volume.state in ("Destroy", "Expunging", "Expunged"),
        "isextractable": _extractable(volume, template),
        "displayvolume": volume.display_volume,
        "quiescevm": False,
        "supportsstoragesnapshot": False,
        "tags": related.tags.get(volume.id, []),
    }
    upload = related.uploads.get(volume.id)
    if upload is not None:
        item["state"], item["status"] = _upload_state(volume, upload)
    if admin:
        item["storage"] = pool.name if pool else None
        item["storageid"] = pool.uuid if pool else None
        item["path"] = volume.path
    return responses.compact(item)


def _upload_state(volume: models.Volume, upload: templates.VolumeStoreRef) -> tuple[str, str]:
    """An uploaded volume's state and status as CloudStack's listVolumes shows them."""
    progress = upload.download_state
    if volume.state == "UploadOp":
        if progress == "DOWNLOAD_IN_PROGRESS":
            pct = upload.download_pct or 0
            return "Uploading", "Checking Volume" if pct >= 100 else f"{pct}% Uploaded"
        return "UploadNotStarted", upload.error_str or "Processing"
    if volume.state == "Uploaded" or progress == "DOWNLOADED":
        return volume.state, "Upload Complete"
    # Back to Allocated: the agent refused (DOWNLOAD_ERROR), or the reaper recovered the
    # volume of a job that died mid-download.
    return "UploadError", upload.error_str or "Upload failed: the upload's job ended"


def _extractable(volume: models.Volume, template: templates.VmTemplate | None) -> bool:
    """Data disks may be extracted; a root disk as its template allows (CloudStack's rule)."""
    if volume.volume_type != "ROOT" or template is None:
        return True
    return template.extractable
