"""Service (compute) offerings: CPU cores, MHz per core and RAM, plus how the root disk is kept.

Since CloudStack 4.17 a service offering points at the disk offering describing its root disk
(``disk_offering_id``). Unless ``diskofferingid`` names an existing disk offering, creating a
service offering also creates a hidden one (``compute_only``) carrying its provisioning type,
storage type, storage tags, IOPS, rate limits and root disk size.

Three kinds of offering:

- fixed: ``cpu``, ``speed`` and ``ram_size`` set;
- customized: CPU and RAM chosen at deployment (``cpu`` and ``ram_size`` NULL, ``customized``
  true), optionally bounded by details ``mincpunumber``/``maxcpunumber``/``minmemory``/
  ``maxmemory`` and with a fixed ``speed``;
- system: for system VMs (``system_use``), of a ``vm_type``.

Deleting an offering marks it (and its hidden disk offering) ``Inactive`` and ``removed``.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as models
from cirrostack.offerings import disk_offerings, scope, storage

State = disk_offerings.State

#: The smallest RAM (MB) CloudStack lets an offering give a VM.
MIN_MEMORY_MB = 32
#: Deployment planners CloudStack ships (listDeploymentPlanners).
DEPLOYMENT_PLANNERS = (
    "FirstFitPlanner",
    "UserDispersingPlanner",
    "UserConcentratedPodPlanner",
    "ImplicitDedicationPlanner",
    "BareMetalPlanner",
    "SkipHeuresticsPlanner",
)
#: Details cirrostack writes itself; ``serviceofferingdetails`` may not set them.
BOUND_KEYS = ("mincpunumber", "maxcpunumber", "minmemory", "maxmemory")
RESERVED_DETAILS = (scope.DOMAIN_KEY, scope.ZONE_KEY, *BOUND_KEYS)


class SystemVmType(enum.StrEnum):
    """``service_offering.vm_type`` of a system offering (lowercase, as CloudStack stores it)."""

    DOMAIN_ROUTER = "domainrouter"
    CONSOLE_PROXY = "consoleproxy"
    SECONDARY_STORAGE_VM = "secondarystoragevm"
    INTERNAL_LB_VM = "internalloadbalancervm"


@dataclass(frozen=True)
class Compute:
    """CPU and memory as asked; ``customized`` None means "customized iff none is given"."""

    cpu_number: int | None = None
    cpu_speed: int | None = None
    memory: int | None = None
    customized: bool | None = None
    min_cpu_number: int | None = None
    max_cpu_number: int | None = None
    min_memory: int | None = None
    max_memory: int | None = None

    def bounds(self) -> tuple[int | None, ...]:
        return (self.min_cpu_number, self.max_cpu_number, self.min_memory, self.max_memory)


@dataclass(frozen=True)
class NewServiceOffering:
    """What createServiceOffering asked for."""

    name: str
    display_text: str
    compute: Compute = field(default_factory=Compute)
    storage: storage.StorageSpec = field(default_factory=storage.StorageSpec)
    root_disk_size_gb: int | None = None
    #: An existing disk offering for the root disk, instead of a hidden one built from
    #: ``storage`` and ``root_disk_size_gb``.
    disk_offering: models.DiskOffering | None = None
    host_tags: str | None = None
    offer_ha: bool = False
    limit_cpu_use: bool = False
    is_volatile: bool = False
    is_system: bool = False
    system_vm_type: SystemVmType | None = None
    network_rate: int | None = None
    deployment_planner: str | None = None
    dynamic_scaling_enabled: bool = True
    disk_offering_strictness: bool = False
    details: Mapping[str, str] = field(default_factory=dict)
    scope: scope.Scope = field(default_factory=scope.Scope)


@dataclass(frozen=True)
class ServiceOfferingChanges:
    """What updateServiceOffering asked for; None leaves a value as it is."""

    name: str | None = None
    display_text: str | None = None
    sort_key: int | None = None
    host_tags: str | None = None
    storage_tags: str | None = None
    domains: tuple[account_models.Domain, ...] | None = None
    zones: tuple[infrastructure.DataCenter, ...] | None = None


@dataclass(frozen=True)
class ServiceOfferingFilter:
    """What listServiceOfferings asked for."""

    uuid: str | None = None
    name: str | None = None
    keyword: str | None = None
    domain: account_models.Domain | None = None
    zone: infrastructure.DataCenter | None = None
    isrecursive: bool = False
    is_system: bool = False
    system_vm_type: str | None = None


def by_uuid(session: Session, uuid: str, *, parameter: str = "id") -> models.ServiceOffering:
    """The active service offering with ``uuid``; InvalidParameterValue if none."""
    offering = session.scalars(
        sa.select(models.ServiceOffering).where(
            models.ServiceOffering.uuid == uuid,
            models.ServiceOffering.removed.is_(None),
            models.ServiceOffering.state == State.ACTIVE.value,
        )
    ).first()
    if offering is None:
        raise unknown(uuid, parameter)
    return offering


def unknown(uuid: str, parameter: str = "id") -> errors.InvalidParameterValue:
    """The error for a service offering id nobody has, or one the caller may not see."""
    return errors.InvalidParameterValue(f"Unable to find service offering by {parameter} {uuid}")


def root_disk(session: Session, offering: models.ServiceOffering) -> models.DiskOffering:
    """The disk offering describing ``offering``'s root disk (hidden or user-visible)."""
    return session.get_one(models.DiskOffering, offering.disk_offering_id)


def create(
    session: Session, caller: access.Caller, new: NewServiceOffering
) -> models.ServiceOffering:
    """Create a service offering (and its hidden root-disk offering)."""
    scope.check_may_manage(caller, new.scope, f"service offering {new.name}")
    scope.check_may_tag(caller, new.storage.tags, new.host_tags)
    customized, bounds = _checked_compute(new.compute, new.is_system)
    vm_type = _checked_system(new)
    _check_placement(new)
    disk = new.disk_offering or _hidden_disk(session, new)
    offering = models.ServiceOffering(
        name=disk_offerings.checked_text(new.name, "name"),
        display_text=disk_offerings.checked_text(new.display_text, "displaytext"),
        cpu=None if customized else new.compute.cpu_number,
        speed=new.compute.cpu_speed,
        ram_size=None if customized else new.compute.memory,
        # sa.null(): the columns default to 200 and 10, but an offering without rates has none
        # (the global network.throttling.rate applies), as in CloudStack.
        nw_rate=sa.null() if new.network_rate is None else new.network_rate,
        mc_rate=sa.null(),
        ha_enabled=new.offer_ha,
        limit_cpu_use=new.limit_cpu_use,
        is_volatile=new.is_volatile,
        host_tag=storage.clean_tags(new.host_tags),
        default_use=False,
        vm_type=None if vm_type is None else vm_type.value,
        system_use=new.is_system,
        customized=customized,
        state=State.ACTIVE.value,
        disk_offering_id=disk.id,
        disk_offering_strictness=new.disk_offering_strictness,
        dynamic_scaling_enabled=new.dynamic_scaling_enabled,
        deployment_planner=new.deployment_planner,
    )
    session.add(offering)
    session.flush()
    for name, value in (dict(new.details) | bounds).items():
        session.add(
            models.ServiceOfferingDetail(
                service_offering_id=offering.id, name=name, value=value, display=True
            )
        )
    scope.write(session, scope.SERVICE, offering.id, new.scope)
    return offering


def _hidden_disk(session: Session, new: NewServiceOffering) -> models.DiskOffering:
    size = new.root_disk_size_gb
    disk = disk_offerings.new_row(
        new.name,
        new.display_text,
        0 if size is None else disk_offerings.size_of(session, size, "rootdisksize"),
        new.storage,
        compute_only=True,
    )
    session.add(disk)
    session.flush()
    return disk


def _checked_compute(compute: Compute, is_system: bool) -> tuple[bool, dict[str, str]]:
    """(customized, bound details to store); raises InvalidParameterValue on a bad mix."""
    fixed = (compute.cpu_number, compute.cpu_speed, compute.memory)
    customized = compute.customized
    if customized is None:
        customized = all(value is None for value in fixed)
    if customized and is_system:
        raise errors.InvalidParameterValue(
            "A system offering cannot be customized: give cpunumber, cpuspeed and memory"
        )
    if compute.cpu_speed is not None and compute.cpu_speed < 0:
        raise errors.InvalidParameterValue(
            f"Invalid cpuspeed {compute.cpu_speed}: specify a value between 0 and 2147483647 MHz"
        )
    if customized:
        return True, _checked_bounds(compute)
    if any(value is not None for value in compute.bounds()):
        raise errors.InvalidParameterValue(
            "mincpunumber, maxcpunumber, minmemory and maxmemory apply only to customized "
            "offerings (customized=true)"
        )
    missing = [
        name
        for name, value in zip(("cpunumber", "cpuspeed", "memory"), fixed, strict=True)
        if value is None
    ]
    if missing:
        raise errors.InvalidParameterValue(
            f"An offering that is not customized needs {', '.join(missing)}; "
            "or pass customized=true"
        )
    _check_cpu("cpunumber", compute.cpu_number)
    _check_memory("memory", compute.memory)
    return False, {}


def _checked_bounds(compute: Compute) -> dict[str, str]:
    if compute.cpu_number is not None or compute.memory is not None:
        raise errors.InvalidParameterValue(
            "A customized offering takes cpunumber and memory at deployment: give "
            "mincpunumber, maxcpunumber, minmemory and maxmemory to bound them instead"
        )
    bounds = compute.bounds()
    if all(value is None for value in bounds):
        return {}
    if any(value is None for value in bounds):
        raise errors.InvalidParameterValue(
            "Give mincpunumber, maxcpunumber, minmemory and maxmemory together, or none of them"
        )
    low_cpu, high_cpu, low_memory, high_memory = (int(value or 0) for value in bounds)
    _check_cpu("mincpunumber", low_cpu)
    _check_memory("minmemory", low_memory)
    for low, high, names in (
        (low_cpu, high_cpu, ("mincpunumber", "maxcpunumber")),
        (low_memory, high_memory, ("minmemory", "maxmemory")),
    ):
        if low > high:
            raise errors.InvalidParameterValue(
                f"{names[0]} ({low}) must not be greater than {names[1]} ({high})"
            )
    return {name: str(value) for name, value in zip(BOUND_KEYS, bounds, strict=True)}


def _check_cpu(parameter: str, value: int | None) -> None:
    if value is None or value < 1:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {value}: specify a CPU number between 1 and 2147483647"
        )


def _check_memory(parameter: str, value: int | None) -> None:
    if value is None or value < MIN_MEMORY_MB:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {value}: specify a memory size between {MIN_MEMORY_MB} and "
            "2147483647 MB"
        )


def _checked_system(new: NewServiceOffering) -> SystemVmType | None:
    """The system VM type to store; checks the parameters only system offerings allow."""
    if not new.is_system:
        if new.system_vm_type is not None:
            raise errors.InvalidParameterValue(
                "systemvmtype applies only to system offerings (issystem=true)"
            )
        vm_type = None
    else:
        vm_type = new.system_vm_type or SystemVmType.DOMAIN_ROUTER
        if new.storage.customized_iops is not None:
            raise errors.InvalidParameterValue(
                "customizediops is not a valid parameter for a system offering"
            )
        if new.storage.hypervisor_snapshot_reserve is not None:
            raise errors.InvalidParameterValue(
                "hypervisorsnapshotreserve is not a valid parameter for a system offering"
            )
    if new.network_rate is not None:
        if vm_type not in (None, SystemVmType.DOMAIN_ROUTER):
            raise errors.InvalidParameterValue(
                "networkrate applies only to guest offerings and to system offerings of "
                "systemvmtype domainrouter"
            )
        if new.network_rate < 0:
            raise errors.InvalidParameterValue(
                f"Invalid networkrate {new.network_rate}: it must not be negative"
            )
    return vm_type


def _check_placement(new: NewServiceOffering) -> None:
    """HA, planner, details, and the root disk given one way only."""
    if new.offer_ha and new.storage.storage_type is storage.StorageType.LOCAL:
        raise errors.InvalidParameterValue("HA offering with local storage is not supported")
    planner = new.deployment_planner
    if planner is not None and planner not in DEPLOYMENT_PLANNERS:
        raise errors.InvalidParameterValue(
            f"Invalid deploymentplanner {planner!r}: valid planners are "
            f"{', '.join(DEPLOYMENT_PLANNERS)}"
        )
    reserved = sorted(set(new.details) & set(RESERVED_DETAILS))
    if reserved:
        raise errors.InvalidParameterValue(
            f"serviceofferingdetails may not set {', '.join(reserved)}: "
            "give each as its own parameter"
        )
    if new.disk_offering is not None and (
        new.storage != storage.StorageSpec() or new.root_disk_size_gb is not None
    ):
        raise errors.InvalidParameterValue(
            f"The root disk follows disk offering {new.disk_offering.uuid} (diskofferingid): "
            "do not also give rootdisksize, storage type, provisioning type, tags, IOPS or rates"
        )


def update(
    session: Session,
    caller: access.Caller,
    offering: models.ServiceOffering,
    changes: ServiceOfferingChanges,
) -> models.ServiceOffering:
    """Change names, sort key, host or storage tags, or restrictions."""
    what = f"service offering {offering.name}"
    current = scope.read(session, scope.SERVICE, offering.id)
    wanted = scope.changed(caller, current, changes.domains, changes.zones)
    scope.check_may_manage(caller, current, what)
    scope.check_may_manage(caller, wanted, what)
    scope.check_may_tag(caller, changes.host_tags, changes.storage_tags)
    if changes.name is not None:
        offering.name = disk_offerings.checked_text(changes.name, "name")
    if changes.display_text is not None:
        offering.display_text = disk_offerings.checked_text(changes.display_text, "displaytext")
    if changes.sort_key is not None:
        offering.sort_key = changes.sort_key
    if changes.host_tags is not None:
        offering.host_tag = storage.clean_tags(changes.host_tags)
    if changes.storage_tags is not None:
        _retag_root_disk(session, offering, changes.storage_tags)
    if wanted != current:
        scope.write(session, scope.SERVICE, offering.id, wanted)
    session.flush()
    return offering


def _retag_root_disk(session: Session, offering: models.ServiceOffering, tags: str) -> None:
    disk = root_disk(session, offering)
    if not disk.compute_only:
        raise errors.InvalidParameterValue(
            f"The root disk of service offering {offering.uuid} follows disk offering "
            f"{disk.uuid}: change that offering's tags instead"
        )
    disk.tags = storage.clean_tags(tags)


def delete(
    session: Session,
    caller: access.Caller,
    offering: models.ServiceOffering,
    now: datetime.datetime,
) -> None:
    """Retire a service offering and its hidden root-disk offering."""
    if offering.default_use:
        raise errors.InvalidParameterValue(
            f"Service offering {offering.name} is marked for default use by system VMs and "
            "cannot be deleted"
        )
    scope.check_may_manage(
        caller,
        scope.read(session, scope.SERVICE, offering.id),
        f"service offering {offering.name}",
    )
    disk = root_disk(session, offering)
    if disk.compute_only:
        disk_offerings.retire(disk, now)
    offering.state = State.INACTIVE.value
    offering.removed = now
    session.flush()


def details_of(session: Session, offering: models.ServiceOffering) -> dict[str, str]:
    """The details shown in answers (custom bounds and ``serviceofferingdetails``)."""
    return details_of_each(session, [offering.id]).get(offering.id, {})


def details_of_each(session: Session, offering_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """``details_of`` for each offering, in one query (a page of listServiceOfferings)."""
    return _DETAILS.of(session, offering_ids)


_DETAILS = query.NameValues(
    models.ServiceOfferingDetail.service_offering_id,
    models.ServiceOfferingDetail.name,
    models.ServiceOfferingDetail.value,
    models.ServiceOfferingDetail.display.is_(True),
)


def search(
    session: Session, caller: access.Caller, wanted: ServiceOfferingFilter, page: query.Page
) -> tuple[Sequence[models.ServiceOffering], int]:
    """listServiceOfferings: active offerings the caller may see (system ones: root admin)."""
    if wanted.is_system and not caller.is_root_admin:
        raise errors.InvalidParameterValue("Only ROOT admins can access system's offering")
    offering = models.ServiceOffering
    statement = sa.select(offering).where(
        offering.removed.is_(None),
        offering.state == State.ACTIVE.value,
        offering.system_use.is_(wanted.is_system),
    )
    if wanted.domain is not None:
        statement = statement.where(
            scope.restricted_to(caller, scope.SERVICE, offering.id, wanted.domain)
        )
    else:
        statement = statement.where(
            scope.visible_to(
                session, caller, scope.SERVICE, offering.id, recursive=wanted.isrecursive
            )
        )
    if wanted.zone is not None:
        statement = statement.where(scope.usable_in(scope.SERVICE, offering.id, wanted.zone))
    statement = statement.where(
        *query.equal_to_given(
            (offering.uuid, wanted.uuid),
            (offering.vm_type, wanted.system_vm_type),
        ),
        *query.named_as_given((offering.name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(
            query.keyword_in(wanted.keyword, offering.name, offering.display_text)
        )
    return query.paged(session, statement.order_by(offering.sort_key, offering.id), page)
