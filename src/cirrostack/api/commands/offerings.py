"""createServiceOffering, listServiceOfferings, updateServiceOffering, deleteServiceOffering,
createDiskOffering, listDiskOfferings, updateDiskOffering, deleteDiskOffering.

Root admins manage every offering; domain admins those restricted to domains of their subtree
(CloudStack ≥ 4.14); everyone lists what is public or meant for its domain.
"""

from __future__ import annotations

from collections.abc import Iterable

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.api.views import offerings as views
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as models
from cirrostack.offerings import disk_offerings, scope, service_offerings, storage

# --- shared parsing --------------------------------------------------------------------------


def _rates(call: registry.Call) -> storage.RateLimits:
    return storage.RateLimits(
        **{name: call.get(storage.parameter_name(name)) for name in storage.RATE_FIELDS}
    )


def _storage_spec(call: registry.Call, encrypt: str) -> storage.StorageSpec:
    """The storage part of a create command (``encrypt`` names its encryption flag)."""
    provisioning = storage.choice(
        storage.ProvisioningType, call.get("provisioningtype"), "provisioningtype"
    )
    kind = storage.choice(storage.StorageType, call.get("storagetype"), "storagetype")
    return storage.StorageSpec(
        provisioning_type=provisioning or storage.ProvisioningType.THIN,
        storage_type=kind or storage.StorageType.SHARED,
        tags=call.get("tags"),
        customized_iops=call.get("customizediops"),
        min_iops=call.get("miniops"),
        max_iops=call.get("maxiops"),
        rates=_rates(call),
        hypervisor_snapshot_reserve=call.get("hypervisorsnapshotreserve"),
        cache_mode=storage.choice(storage.CacheMode, call.get("cachemode"), "cachemode"),
        encrypt=call.get(encrypt, False),
    )


def _new_scope(call: registry.Call) -> scope.Scope:
    return scope.Scope(
        scope.domains_named(call.session, call.get("domainid", []), caller=call.who),
        scope.zones_named(call.session, call.get("zoneid", [])),
    )


def _items(text: str) -> Iterable[str]:
    return (item.strip() for item in text.split(",") if item.strip())


def _changed_domains(call: registry.Call) -> tuple[account_models.Domain, ...] | None:
    """updateX's ``domainid``: None (unchanged), ``public`` (no domain) or ids."""
    text = call.get("domainid")
    if text is None:
        return None
    if text.strip().lower() == "public":
        return ()
    return scope.domains_named(call.session, _items(text), caller=call.who)


def _changed_zones(call: registry.Call) -> tuple[infrastructure.DataCenter, ...] | None:
    """updateX's ``zoneid``: None (unchanged), ``all`` (no zone restriction) or ids."""
    text = call.get("zoneid")
    if text is None:
        return None
    if text.strip().lower() == "all":
        return ()
    return scope.zones_named(call.session, _items(text))


def _details(call: registry.Call) -> dict[str, str]:
    """``serviceofferingdetails``: ``[i].key``/``[i].value`` pairs, or ``[i].<name>=<value>``."""
    details: dict[str, str] = {}
    for entry in call.get("serviceofferingdetails", {}).values():
        if entry.get("key") and entry.get("value"):
            details[entry["key"]] = entry["value"]
            continue
        details.update({k: v for k, v in entry.items() if k not in ("key", "value")})
    return details


def _zone(call: registry.Call) -> infrastructure.DataCenter | None:
    uuid = call.get("zoneid")
    return None if uuid is None else scope.zone_by_uuid(call.session, uuid)


# --- disk offerings --------------------------------------------------------------------------


def _disk_acted_on(call: registry.Call, offering: models.DiskOffering) -> None:
    call.acted_on = ("DiskOffering", offering.id, offering.name)


def create_disk_offering(call: registry.Call) -> responses.Reply:
    new = disk_offerings.NewDiskOffering(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        disk_size_gb=call.get("disksize"),
        customized=call.get("customized", False),
        storage=_storage_spec(call, "encrypt"),
        display_offering=call.get("displayoffering", True),
        disk_size_strictness=call.get("disksizestrictness", False),
        scope=_new_scope(call),
    )
    offering = disk_offerings.create(call.session, call.who, new)
    _disk_acted_on(call, offering)
    return responses.Single("diskoffering", views.disk_offering_item(call.session, offering))


def list_disk_offerings(call: registry.Call) -> responses.Reply:
    wanted = disk_offerings.DiskOfferingFilter(
        uuid=call.get("id"),
        name=call.get("name"),
        keyword=call.get("keyword"),
        domain=domain_arg(call),
        zone=_zone(call),
        isrecursive=call.get("isrecursive", False),
        encrypt=call.get("encrypt"),
    )
    found, total = disk_offerings.search(call.session, call.who, wanted, paging.page(call))
    items = views.disk_offering_items(call.session, found)
    return responses.Listing("diskoffering", items, total)


def _disk(call: registry.Call, uuid: str, parameter: str = "id") -> models.DiskOffering:
    """The disk offering ``uuid`` names; one the caller cannot see is answered as unknown."""
    offering = disk_offerings.by_uuid(call.session, uuid, parameter=parameter)
    if not scope.sees(call.session, call.who, scope.DISK, offering.id):
        raise disk_offerings.unknown(uuid, parameter)
    return offering


def _service(call: registry.Call, uuid: str) -> models.ServiceOffering:
    """The service offering ``uuid`` names; one the caller cannot see is answered as unknown."""
    offering = service_offerings.by_uuid(call.session, uuid)
    if not scope.sees(call.session, call.who, scope.SERVICE, offering.id):
        raise service_offerings.unknown(uuid, "id")
    return offering


def update_disk_offering(call: registry.Call) -> responses.Reply:
    offering = _disk(call, call.get("id"))
    _disk_acted_on(call, offering)
    changes = disk_offerings.DiskOfferingChanges(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        sort_key=call.get("sortkey"),
        display_offering=call.get("displayoffering"),
        tags=call.get("tags"),
        cache_mode=storage.choice(storage.CacheMode, call.get("cachemode"), "cachemode"),
        rates=_rates(call),
        domains=_changed_domains(call),
        zones=_changed_zones(call),
    )
    disk_offerings.update(call.session, call.who, offering, changes)
    return responses.Single("diskoffering", views.disk_offering_item(call.session, offering))


def delete_disk_offering(call: registry.Call) -> responses.Reply:
    offering = _disk(call, call.get("id"))
    _disk_acted_on(call, offering)
    disk_offerings.delete(call.session, call.who, offering, call.now)
    return responses.Success()


# --- service offerings -----------------------------------------------------------------------


def _service_acted_on(call: registry.Call, offering: models.ServiceOffering) -> None:
    call.acted_on = ("ServiceOffering", offering.id, offering.name)


def _compute(call: registry.Call) -> service_offerings.Compute:
    return service_offerings.Compute(
        cpu_number=call.get("cpunumber"),
        cpu_speed=call.get("cpuspeed"),
        memory=call.get("memory"),
        customized=call.get("customized"),
        min_cpu_number=call.get("mincpunumber"),
        max_cpu_number=call.get("maxcpunumber"),
        min_memory=call.get("minmemory"),
        max_memory=call.get("maxmemory"),
    )


def create_service_offering(call: registry.Call) -> responses.Reply:
    disk_id = call.get("diskofferingid")
    new = service_offerings.NewServiceOffering(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        compute=_compute(call),
        storage=_storage_spec(call, "encryptroot"),
        root_disk_size_gb=call.get("rootdisksize"),
        disk_offering=None if disk_id is None else _disk(call, disk_id, "diskofferingid"),
        host_tags=call.get("hosttags"),
        offer_ha=call.get("offerha", False),
        limit_cpu_use=call.get("limitcpuuse", False),
        is_volatile=call.get("isvolatile", False),
        is_system=call.get("issystem", False),
        system_vm_type=storage.choice(
            service_offerings.SystemVmType, call.get("systemvmtype"), "systemvmtype"
        ),
        network_rate=call.get("networkrate"),
        deployment_planner=call.get("deploymentplanner"),
        dynamic_scaling_enabled=call.get("dynamicscalingenabled", True),
        disk_offering_strictness=call.get("diskofferingstrictness", False),
        details=_details(call),
        scope=_new_scope(call),
    )
    offering = service_offerings.create(call.session, call.who, new)
    _service_acted_on(call, offering)
    return responses.Single("serviceoffering", views.service_offering_item(call.session, offering))


def list_service_offerings(call: registry.Call) -> responses.Reply:
    wanted = service_offerings.ServiceOfferingFilter(
        uuid=call.get("id"),
        name=call.get("name"),
        keyword=call.get("keyword"),
        domain=domain_arg(call),
        zone=_zone(call),
        isrecursive=call.get("isrecursive", False),
        is_system=call.get("issystem", False),
        system_vm_type=call.get("systemvmtype"),
    )
    found, total = service_offerings.search(call.session, call.who, wanted, paging.page(call))
    items = views.service_offering_items(call.session, found)
    return responses.Listing("serviceoffering", items, total)


def update_service_offering(call: registry.Call) -> responses.Reply:
    offering = _service(call, call.get("id"))
    _service_acted_on(call, offering)
    changes = service_offerings.ServiceOfferingChanges(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        sort_key=call.get("sortkey"),
        host_tags=call.get("hosttags"),
        storage_tags=call.get("storagetags"),
        domains=_changed_domains(call),
        zones=_changed_zones(call),
    )
    service_offerings.update(call.session, call.who, offering, changes)
    return responses.Single("serviceoffering", views.service_offering_item(call.session, offering))


def delete_service_offering(call: registry.Call) -> responses.Reply:
    offering = _service(call, call.get("id"))
    _service_acted_on(call, offering)
    service_offerings.delete(call.session, call.who, offering, call.now)
    return responses.Success()


# --- declarations ----------------------------------------------------------------------------

_RATE_PARAMS = tuple(
    P(storage.parameter_name(name), T.LONG, name.replace("_", " ") + " of the disk (0: no limit)")
    for name in storage.RATE_FIELDS
)
_STORAGE_PARAMS = (
    P("storagetype", T.STRING, "the storage type: shared (default) or local"),
    P("provisioningtype", T.STRING, "provisioning type of volumes: thin (default), sparse, fat"),
    P("customizediops", T.BOOLEAN, "whether each volume picks its IOPS"),
    P("miniops", T.LONG, "min IOPS (with customizediops=false or not given)"),
    P("maxiops", T.LONG, "max IOPS (with customizediops=false or not given)"),
    P("hypervisorsnapshotreserve", T.INTEGER, "hypervisor snapshot reserve space in percent"),
    P("cachemode", T.STRING, "the cache mode: none, writeback, writethrough, hypervisor_default"),
    *_RATE_PARAMS,
)
_SCOPE_PARAMS = (
    P(
        "domainid",
        T.LIST,
        "the ID(s) of the containing domain(s), comma-separated; none for a public offering",
        related=("listDomains",),
        item_type=T.UUID,
    ),
    P(
        "zoneid",
        T.LIST,
        "the ID(s) of the zone(s) the offering is for, comma-separated; none for every zone",
        related=("listZones",),
        item_type=T.UUID,
    ),
)
_CHANGED_SCOPE_PARAMS = (
    P(
        "domainid",
        T.STRING,
        "the ID(s) of the containing domain(s), comma-separated, or 'public'",
        length=4096,
    ),
    P("zoneid", T.STRING, "the ID(s) of the zone(s), comma-separated, or 'all'", length=4096),
)
_LIST_PARAMS = (
    P("name", T.STRING, "list by name (exact)"),
    P(
        "domainid",
        T.UUID,
        "list only offerings restricted to this domain",
        related=("listDomains",),
    ),
    P("zoneid", T.UUID, "list offerings usable in this zone", related=("listZones",)),
    LISTALL,
    ISRECURSIVE,
    *paging.PARAMS,
)
_NAME = P("name", T.STRING, "the name of the offering", required=True)
_SORT_KEY = P("sortkey", T.INTEGER, "sort key of the offering in lists")


def _id(what: str, lister: str, *, required: bool = True) -> P:
    return P("id", T.UUID, f"the ID of the {what}", required=required, related=(lister,))


DISK_COMMANDS = (
    registry.Command(
        "createDiskOffering",
        create_disk_offering,
        "Creates a disk offering.",
        (
            _NAME,
            P("displaytext", T.STRING, "display text of the offering", required=True, length=4096),
            P("disksize", T.LONG, "size of the disk offering in GB (not with customized=true)"),
            P("customized", T.BOOLEAN, "whether each volume picks its size"),
            P("tags", T.STRING, "storage tags, comma-separated", length=4096),
            P("displayoffering", T.BOOLEAN, "whether to show the offering to end users"),
            P("disksizestrictness", T.BOOLEAN, "whether a volume must keep the offering's size"),
            P("encrypt", T.BOOLEAN, "whether volumes of the offering are encrypted"),
            *_STORAGE_PARAMS,
            *_SCOPE_PARAMS,
        ),
        views.DISK_OFFERING,
        authorized=registry.DOMAIN_ADMINS,
        event="DISK.OFFERING.CREATE",
    ),
    registry.Command(
        "listDiskOfferings",
        list_disk_offerings,
        "Lists all available disk offerings.",
        (
            _id("disk offering", "listDiskOfferings", required=False),
            P("encrypt", T.BOOLEAN, "list only offerings that encrypt (true) or not (false)"),
            *_LIST_PARAMS,
        ),
        views.DISK_OFFERING,
    ),
    registry.Command(
        "updateDiskOffering",
        update_disk_offering,
        "Updates a disk offering.",
        (
            _id("disk offering", "listDiskOfferings"),
            P("name", T.STRING, "the new name of the disk offering"),
            P("displaytext", T.STRING, "the new display text", length=4096),
            _SORT_KEY,
            P("displayoffering", T.BOOLEAN, "whether to show the offering to end users"),
            P("tags", T.STRING, "storage tags, comma-separated", length=4096),
            P("cachemode", T.STRING, "the cache mode: none, writeback, writethrough"),
            *_RATE_PARAMS,
            *_CHANGED_SCOPE_PARAMS,
        ),
        views.DISK_OFFERING,
        authorized=registry.DOMAIN_ADMINS,
        event="DISK.OFFERING.EDIT",
    ),
    registry.Command(
        "deleteDiskOffering",
        delete_disk_offering,
        "Deletes a disk offering.",
        (_id("disk offering", "listDiskOfferings"),),
        authorized=registry.DOMAIN_ADMINS,
        event="DISK.OFFERING.DELETE",
    ),
)

_COMPUTE_PARAMS = (
    P("cpunumber", T.INTEGER, "the number of CPU cores"),
    P("cpuspeed", T.INTEGER, "the CPU speed of each core in MHz"),
    P("memory", T.INTEGER, "the memory in MB"),
    P("customized", T.BOOLEAN, "whether CPU and memory are chosen at deployment"),
    P("mincpunumber", T.INTEGER, "the fewest CPU cores of a customized offering"),
    P("maxcpunumber", T.INTEGER, "the most CPU cores of a customized offering"),
    P("minmemory", T.INTEGER, "the least memory (MB) of a customized offering"),
    P("maxmemory", T.INTEGER, "the most memory (MB) of a customized offering"),
)

SERVICE_COMMANDS = (
    registry.Command(
        "createServiceOffering",
        create_service_offering,
        "Creates a service offering.",
        (
            _NAME,
            P("displaytext", T.STRING, "the display text of the service offering", required=True),
            *_COMPUTE_PARAMS,
            P("tags", T.STRING, "storage tags of the root disk, comma-separated"),
            P("hosttags", T.STRING, "host tags, comma-separated"),
            P("offerha", T.BOOLEAN, "the HA for the service offering"),
            P("limitcpuuse", T.BOOLEAN, "restrict the CPU usage to committed service offering"),
            P("isvolatile", T.BOOLEAN, "whether the root disk is replaced on every reboot"),
            P("issystem", T.BOOLEAN, "is this a system vm offering"),
            P(
                "systemvmtype",
                T.STRING,
                "the system VM type: domainrouter, consoleproxy, secondarystoragevm",
            ),
            P("networkrate", T.INTEGER, "data transfer rate in megabits per second allowed"),
            P("deploymentplanner", T.STRING, "the deployment planner of VMs of this offering"),
            P("rootdisksize", T.LONG, "the root disk size in GB"),
            P(
                "diskofferingid",
                T.UUID,
                "the disk offering the root disk follows",
                related=("listDiskOfferings",),
            ),
            P("diskofferingstrictness", T.BOOLEAN, "whether the root disk keeps that offering"),
            P("dynamicscalingenabled", T.BOOLEAN, "whether VMs may scale dynamically"),
            P("encryptroot", T.BOOLEAN, "whether the root volume is encrypted"),
            P("serviceofferingdetails", T.MAP, "details for planner, used to store parameters"),
            *_STORAGE_PARAMS,
            *_SCOPE_PARAMS,
        ),
        views.SERVICE_OFFERING,
        authorized=registry.DOMAIN_ADMINS,
        event="SERVICE.OFFERING.CREATE",
    ),
    registry.Command(
        "listServiceOfferings",
        list_service_offerings,
        "Lists all available service offerings.",
        (
            _id("service offering", "listServiceOfferings", required=False),
            P("issystem", T.BOOLEAN, "list system offerings (root admin only)"),
            P("systemvmtype", T.STRING, "list system offerings of this system VM type"),
            *_LIST_PARAMS,
        ),
        views.SERVICE_OFFERING,
    ),
    registry.Command(
        "updateServiceOffering",
        update_service_offering,
        "Updates a service offering.",
        (
            _id("service offering", "listServiceOfferings"),
            P("name", T.STRING, "the new name of the service offering"),
            P("displaytext", T.STRING, "the new display text of the service offering"),
            _SORT_KEY,
            P("hosttags", T.STRING, "the host tags, comma-separated"),
            P("storagetags", T.STRING, "the storage tags of the root disk, comma-separated"),
            *_CHANGED_SCOPE_PARAMS,
        ),
        views.SERVICE_OFFERING,
        authorized=registry.DOMAIN_ADMINS,
        event="SERVICE.OFFERING.EDIT",
    ),
    registry.Command(
        "deleteServiceOffering",
        delete_service_offering,
        "Deletes a service offering.",
        (_id("service offering", "listServiceOfferings"),),
        authorized=registry.DOMAIN_ADMINS,
        event="SERVICE.OFFERING.DELETE",
    ),
)

COMMANDS = (*SERVICE_COMMANDS, *DISK_COMMANDS)
