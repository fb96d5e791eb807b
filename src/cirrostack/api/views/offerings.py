"""Response objects for disk offerings and service offerings: spec and serializer side by side.

Field names are CloudStack's (4.18), including its camelCase rate keys (``diskBytesReadRate``)
and ``cacheMode``. Sizes: ``disksize`` and ``rootdisksize`` in GB, ``memory`` in MB, ``cpuspeed``
in MHz. A service offering's storage fields come from the disk offering of its root disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import offerings as models
from cirrostack.offerings import scope, service_offerings, storage

_S, _B, _I, _L, _D, _M = "string", "boolean", "integer", "long", "date", "map"

_RATE_FIELDS = tuple(
    Field(storage.answer_key(name), _L, name.replace("_", " ")) for name in storage.RATE_FIELDS
)
_SCOPE_FIELDS = (
    Field("domain", _S, "the domain name(s) the offering is restricted to"),
    Field("domainid", _S, "the domain ID(s) the offering is restricted to"),
    Field("zone", _S, "the zone name(s) the offering is restricted to"),
    Field("zoneid", _S, "the zone ID(s) the offering is restricted to"),
)
_STORAGE_FIELDS = (
    Field("storagetype", _S, "the storage type: shared or local"),
    Field("provisioningtype", _S, "provisioning type used to create volumes: thin, sparse, fat"),
    Field("iscustomizediops", _B, "true if the IOPS are chosen for each volume"),
    Field("miniops", _L, "the min iops of the disk offering"),
    Field("maxiops", _L, "the max iops of the disk offering"),
    Field("hypervisorsnapshotreserve", _I, "hypervisor snapshot reserve space in percent"),
    Field("cacheMode", _S, "the cache mode: none, writeback, writethrough, hypervisor_default"),
    *_RATE_FIELDS,
)

DISK_OFFERING = ObjectSpec(
    "diskoffering",
    (
        Field("id", _S, "unique ID of the disk offering"),
        Field("name", _S, "the name of the disk offering"),
        Field("displaytext", _S, "an alternate display text of the disk offering"),
        Field("disksize", _L, "the size of the disk offering in GB (0 when customized)"),
        Field("created", _D, "the date this disk offering was created"),
        Field("iscustomized", _B, "true if the disk offering uses custom size"),
        Field("tags", _S, "the storage tags of the disk offering"),
        Field("displayoffering", _B, "whether to display the offering to the end user"),
        Field("disksizestrictness", _B, "true if a volume keeps the offering's size"),
        Field("encrypt", _B, "whether volumes of this offering are encrypted"),
        *_STORAGE_FIELDS,
        *_SCOPE_FIELDS,
    ),
)

SERVICE_OFFERING = ObjectSpec(
    "serviceoffering",
    (
        Field("id", _S, "the id of the service offering"),
        Field("name", _S, "the name of the service offering"),
        Field("displaytext", _S, "an alternate display text of the service offering"),
        Field("cpunumber", _I, "the number of CPU"),
        Field("cpuspeed", _I, "the clock rate CPU speed in Mhz"),
        Field("memory", _I, "the memory in MB"),
        Field("created", _D, "the date this service offering was created"),
        Field("iscustomized", _B, "true if CPU and memory are chosen at deployment"),
        Field("offerha", _B, "the ha support in the service offering"),
        Field("limitcpuuse", _B, "restrict the CPU usage to committed service offering"),
        Field("isvolatile", _B, "true if the root disk is replaced on every reboot"),
        Field("issystem", _B, "is this a system vm offering"),
        Field("systemvmtype", _S, "the system VM type of a system offering"),
        Field("defaultuse", _B, "is this a default system vm offering"),
        Field("hosttags", _S, "the host tags of the service offering"),
        Field("storagetags", _S, "the storage tags of the root disk"),
        Field("tags", _S, "the storage tags of the root disk (name before 4.16)"),
        Field("networkrate", _I, "data transfer rate in megabits per second allowed"),
        Field("deploymentplanner", _S, "deployment strategy used to deploy VM"),
        Field("rootdisksize", _L, "the root disk size in GB"),
        Field("diskofferingid", _S, "the ID of the disk offering the root disk follows"),
        Field("diskofferingname", _S, "the name of the disk offering the root disk follows"),
        Field("diskofferingdisplaytext", _S, "the display text of that disk offering"),
        Field("diskofferingstrictness", _B, "true if the root disk keeps that disk offering"),
        Field("dynamicscalingenabled", _B, "true if VMs of the offering can scale dynamically"),
        Field("encryptroot", _B, "whether the root volume is encrypted"),
        Field("serviceofferingdetails", _M, "additional key/value details of the offering"),
        *_STORAGE_FIELDS,
        *_SCOPE_FIELDS,
    ),
)


def _joined(values: list[str]) -> str | None:
    return ",".join(values) or None


def scope_item(restrictions: scope.Scope) -> dict[str, Any]:
    return {
        "domain": _joined([domain.name for domain in restrictions.domains]),
        "domainid": _joined([domain.uuid for domain in restrictions.domains]),
        "zone": _joined([zone.name for zone in restrictions.zones]),
        "zoneid": _joined([zone.uuid for zone in restrictions.zones]),
    }


def storage_item(disk: models.DiskOffering) -> dict[str, Any]:
    """The storage fields every offering answers, from a disk offering row."""
    rates = {storage.answer_key(name): getattr(disk, name) for name in storage.RATE_FIELDS}
    return {
        "storagetype": (
            storage.StorageType.LOCAL if disk.use_local_storage else storage.StorageType.SHARED
        ).value,
        "provisioningtype": disk.provisioning_type,
        "iscustomizediops": disk.customized_iops,
        "miniops": disk.min_iops,
        "maxiops": disk.max_iops,
        "hypervisorsnapshotreserve": disk.hv_ss_reserve,
        "cacheMode": disk.cache_mode,
        **rates,
    }


def disk_offering_item(session: Session, offering: models.DiskOffering) -> dict[str, Any]:
    return disk_offering_items(session, [offering])[0]


def disk_offering_items(
    session: Session, found: Sequence[models.DiskOffering]
) -> list[dict[str, Any]]:
    """Disk offerings as answers show them; their scopes read in a fixed number of queries."""
    scopes = scope.read_each(session, scope.DISK, [offering.id for offering in found])
    return [_disk_offering(offering, scopes[offering.id]) for offering in found]


def _disk_offering(offering: models.DiskOffering, restrictions: scope.Scope) -> dict[str, Any]:
    return responses.compact(
        {
            "id": offering.uuid,
            "name": offering.name,
            "displaytext": offering.display_text,
            "disksize": offering.disk_size // storage.GIB,
            "created": responses.date(offering.created),
            "iscustomized": offering.customized,
            "tags": offering.tags,
            "displayoffering": offering.display_offering,
            "disksizestrictness": offering.disk_size_strictness,
            "encrypt": offering.encrypt,
            **storage_item(offering),
            **scope_item(restrictions),
        }
    )


def service_offering_item(session: Session, offering: models.ServiceOffering) -> dict[str, Any]:
    return service_offering_items(session, [offering])[0]


def service_offering_items(
    session: Session, found: Sequence[models.ServiceOffering]
) -> list[dict[str, Any]]:
    """Service offerings as answers show them; root disks, details and scopes read in a fixed
    number of queries."""
    ids = [offering.id for offering in found]
    disks = batch.by_id(session, models.DiskOffering, [o.disk_offering_id for o in found])
    shown = service_offerings.details_of_each(session, ids)
    scopes = scope.read_each(session, scope.SERVICE, ids)
    return [
        _service_offering(
            offering,
            disks[offering.disk_offering_id or 0],
            shown.get(offering.id, {}),
            scopes[offering.id],
        )
        for offering in found
    ]


def _service_offering(
    offering: models.ServiceOffering,
    disk: models.DiskOffering,
    shown: dict[str, str],
    restrictions: scope.Scope,
) -> dict[str, Any]:
    shared = None if disk.compute_only else disk
    return responses.compact(
        {
            "id": offering.uuid,
            "name": offering.name,
            "displaytext": offering.display_text,
            "cpunumber": offering.cpu,
            "cpuspeed": offering.speed,
            "memory": offering.ram_size,
            "created": responses.date(offering.created),
            "iscustomized": offering.customized,
            "offerha": offering.ha_enabled,
            "limitcpuuse": offering.limit_cpu_use,
            "isvolatile": offering.is_volatile,
            "issystem": offering.system_use,
            "systemvmtype": offering.vm_type,
            "defaultuse": offering.default_use,
            "hosttags": offering.host_tag,
            "storagetags": disk.tags,
            "tags": disk.tags,
            "networkrate": offering.nw_rate,
            "deploymentplanner": offering.deployment_planner,
            "rootdisksize": (disk.disk_size // storage.GIB) or None,
            "diskofferingid": shared and shared.uuid,
            "diskofferingname": shared and shared.name,
            "diskofferingdisplaytext": shared and shared.display_text,
            "diskofferingstrictness": offering.disk_offering_strictness,
            "dynamicscalingenabled": offering.dynamic_scaling_enabled,
            "encryptroot": disk.encrypt,
            "serviceofferingdetails": shown or None,
            **storage_item(disk),
            **scope_item(restrictions),
        }
    )
