"""Volume records: create (Allocated, no pool), look up, list, update, delete, with limits.

Called by the volume API commands (``api.commands.volumes``) and, in the next issue, by VM
deployment for root and data disks. A volume is created as CloudStack's ``allocVolume`` does:
a row in state Allocated with no pool, its size fixed by the disk offering (or by ``size``
for a custom offering), its ``volume`` and ``primary_storage`` counts reserved against the
owner's and its domains' limits in the same transaction (``accounts.limits.reserve``: one
conditional UPDATE each, so two requests racing for the last unit cannot both win). The pool
comes later (``storage.volume_create``).

Deleting releases what creating reserved. A volume that exists only as a record (Allocated,
or back to Allocated after a failed creation) leaves through Destroy and Expunged at once; one
on a pool is deleted by ``storage.volume_delete``'s DeleteCommand first.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, limits, locks, resources, scope
from cirrostack.config import keys, settings
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as offering_models
from cirrostack.db.models import storage as models
from cirrostack.offerings import storage as offering_storage
from cirrostack.states import gate
from cirrostack.states.machines import storage as machines
from cirrostack.storage import template_use

GIB = offering_storage.GIB
State = machines.VolumeState
Event = machines.VolumeEvent

#: ``volumes.volume_type`` values (CloudStack's Volume.Type).
ROOT, DATADISK = "ROOT", "DATADISK"
TYPES = ("ROOT", "SWAP", "DATADISK", "ISO")

#: States a volume no longer exists in for lists and limits (CloudStack hides Expunged rows).
GONE = (State.Expunged.value,)


@dataclass(frozen=True)
class NewVolume:
    """What createVolume asks for (sizes as the API gives them: GB)."""

    name: str | None
    offering: offering_models.DiskOffering
    zone: infrastructure.DataCenter
    size_gb: int | None = None
    min_iops: int | None = None
    max_iops: int | None = None
    display: bool = True
    volume_type: str = DATADISK
    template_id: int | None = None


def size_for(session: Session, offering: offering_models.DiskOffering, size_gb: int | None) -> int:
    """The volume's size in bytes: the offering's, or ``size`` for a custom offering.

    A custom offering needs ``size`` within ``custom.diskoffering.size.min``/``max`` and
    ``storage.max.volume.size``; a fixed one ignores a ``size`` (CloudStack does; clients such
    as Ansible's cs_volume send it anyway).
    """
    if not offering.customized and offering.disk_size > 0:
        return offering.disk_size
    if size_gb is None:
        raise errors.InvalidParameterValue(
            f"Disk offering {offering.uuid} has a custom size: specify size (in GB)"
        )
    shown = settings.Settings(session)
    low = shown.get(keys.CUSTOM_DISK_OFFERING_MIN_SIZE)
    high = shown.get(keys.CUSTOM_DISK_OFFERING_MAX_SIZE)
    if not low <= size_gb <= high:
        raise errors.InvalidParameterValue(
            f"Volume size: {size_gb} GB is out of allowed range. Max: {high} Min: {low} "
            "(custom.diskoffering.size.max/min)"
        )
    return offering_storage.size_in_bytes(size_gb, "size", shown.get(keys.STORAGE_MAX_VOLUME_SIZE))


def _iops(
    offering: offering_models.DiskOffering, low: int | None, high: int | None
) -> tuple[int | None, int | None]:
    """The volume's IOPS: chosen per volume only when the offering says so."""
    if not offering.customized_iops:
        return offering.min_iops, offering.max_iops
    if (low is not None and low < 0) or (high is not None and high < 0):
        raise errors.InvalidParameterValue("miniops and maxiops must not be negative")
    if low is not None and high is not None and low > high:
        raise errors.InvalidParameterValue(
            f"miniops {low} must be less than or equal to maxiops {high}"
        )
    return low, high


def check_zone(caller: access.Caller, zone: infrastructure.DataCenter) -> None:
    """A disabled zone takes new volumes from root admins only (as CloudStack)."""
    if zone.allocation_state == "Disabled" and not caller.is_root_admin:
        raise errors.PermissionDenied(
            f"Cannot perform this operation, Zone is currently disabled: {zone.uuid}"
        )


def create(
    session: Session,
    caller: access.Caller,
    owner: account_models.Account,
    new: NewVolume,
    now: datetime.datetime,
) -> models.Volume:
    """Record a new volume, Allocated and on no pool, reserving its owner's limits.

    Raises InvalidParameterValue (size, IOPS), PermissionDenied (disabled zone) or
    ResourceAllocation (a limit); then nothing is written.
    """
    check_zone(caller, new.zone)
    size = size_for(session, new.offering, new.size_gb)
    low, high = _iops(new.offering, new.min_iops, new.max_iops)
    # Creations for one account queue on its row: the two reservations (each may insert a
    # missing counter, then update it with the domains') otherwise deadlock on MariaDB.
    owner = locks.account(session, owner.id)
    if new.template_id is not None:
        template_use.hold_for_volume(session, new.template_id)
    limits.reserve(session, owner, resources.ResourceType.VOLUME, 1)
    limits.reserve(session, owner, resources.ResourceType.PRIMARY_STORAGE, size)
    volume = models.Volume(
        name=new.name or _generated_name(now),
        account_id=owner.id,
        domain_id=owner.domain_id,
        data_center_id=new.zone.id,
        volume_type=new.volume_type,
        size=size,
        min_iops=low,
        max_iops=high,
        disk_offering_id=new.offering.id,
        template_id=new.template_id,
        provisioning_type=new.offering.provisioning_type,
        display_volume=new.display,
        state=State.Allocated.value,
        created=now,
    )
    session.add(volume)
    session.flush()
    return volume


def _generated_name(now: datetime.datetime) -> str:
    """CloudStack names an unnamed volume after its creation time (``VOL-<millis>`` style)."""
    return f"VOL-{int(now.timestamp() * 1000)}"


def by_uuid(
    session: Session, caller: access.Caller, uuid: str, *, parameter: str = "id"
) -> models.Volume:
    """The existing volume ``uuid`` names, if the caller reaches its owner; else like unknown."""
    volume = session.scalars(
        sa.select(models.Volume).where(
            models.Volume.uuid == uuid,
            models.Volume.removed.is_(None),
            models.Volume.state.not_in(GONE),
        )
    ).first()
    if volume is None or not _reaches(session, caller, volume):
        raise unknown(uuid, parameter)
    return volume


def unknown(uuid: str, parameter: str = "id") -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(f"Unable to find volume with {parameter} {uuid}")


def _reaches(session: Session, caller: access.Caller, volume: models.Volume) -> bool:
    owner = session.get_one(account_models.Account, volume.account_id)
    domain = session.get_one(account_models.Domain, owner.domain_id)
    return access.reaches_account(caller, owner, domain)


@dataclass(frozen=True)
class VolumeFilter:
    """listVolumes' filters (ids already resolved to internal ids)."""

    owners: scope.Wanted = field(default_factory=scope.Wanted)
    uuid: str | None = None
    name: str | None = None
    keyword: str | None = None
    zone_id: int | None = None
    pod_id: int | None = None
    pool_id: int | None = None
    instance_id: int | None = None
    disk_offering_id: int | None = None
    volume_type: str | None = None
    state: str | None = None
    display: bool | None = None


def search(
    session: Session, caller: access.Caller, wanted: VolumeFilter, page: query.Page
) -> tuple[Sequence[models.Volume], int]:
    """One page of the volumes the caller may list, newest id last, and the total.

    Two statements at most (the page and, for a full page, the count), whatever the page size.
    A volume hidden from its owner (``displayvolume=false``) is listed to admins only.
    """
    volume = models.Volume
    statement = sa.select(volume).where(
        volume.removed.is_(None),
        volume.state.not_in(GONE),
        scope.condition(session, caller, wanted.owners, volume.account_id),
        *query.equal_to_given(
            (volume.uuid, wanted.uuid),
            (volume.data_center_id, wanted.zone_id),
            (volume.pod_id, wanted.pod_id),
            (volume.pool_id, wanted.pool_id),
            (volume.instance_id, wanted.instance_id),
            (volume.disk_offering_id, wanted.disk_offering_id),
            (volume.display_volume, wanted.display),
        ),
        *query.named_as_given((volume.name, wanted.name)),
    )
    if wanted.volume_type is not None:
        statement = statement.where(sa.func.upper(volume.volume_type) == wanted.volume_type.upper())
    if wanted.state is not None:
        statement = statement.where(query.same_name(volume.state, wanted.state))
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(volume.name, wanted.keyword))
    if not caller.is_root_admin and not caller.is_domain_admin:
        statement = statement.where(volume.display_volume.is_(True))
    return query.paged(session, statement.order_by(volume.id), page)


@dataclass(frozen=True)
class VolumeChanges:
    """updateVolume: what the caller asked to change (None: unchanged)."""

    name: str | None = None
    display: bool | None = None
    path: str | None = None
    pool: models.StoragePool | None = None
    state: str | None = None


def update(
    session: Session, caller: access.Caller, volume: models.Volume, changes: VolumeChanges
) -> None:
    """Change a volume's name, visibility, or (root admin) its recorded path, pool and state.

    The admin-only fields repair a record that disagrees with the storage (CloudStack's
    updateVolume for a volume moved by hand); a state is set through the gate's Volume
    machine only when an event leads there, never written raw.
    """
    admin_only = (changes.path, changes.pool, changes.state)
    if any(value is not None for value in admin_only) and not caller.is_root_admin:
        raise errors.PermissionDenied(
            "Only a root admin may change a volume's path, storageid or state"
        )
    if changes.name is not None:
        if not changes.name.strip():
            raise errors.InvalidParameterValue("Specify a name that is not blank")
        volume.name = changes.name
    if changes.display is not None:
        volume.display_volume = changes.display
    if changes.path is not None:
        volume.path = changes.path
    if changes.pool is not None:
        volume.pool_id = changes.pool.id
        volume.pool_type = changes.pool.pool_type
    if changes.state is not None:
        _move_to(session, volume, changes.state)
    session.flush()


def _move_to(session: Session, volume: models.Volume, wanted: str) -> None:
    """An admin's ``state``: the Volume machine's event from the current state to ``wanted``."""
    try:
        target = State(next(s.value for s in State if s.value.lower() == wanted.lower()))
    except StopIteration:
        raise errors.InvalidParameterValue(f"Invalid volume state {wanted}") from None
    current = State(volume.state)
    if target is current:
        return
    for event in Event:
        if machines.VOLUME.transitions.get((current, event)) is target:
            gate.transition(session, volume, event, description="updateVolume")
            return
    raise errors.InvalidParameterValue(
        f"Volume {volume.uuid} cannot go from {current.value} to {target.value}"
    )


def check_deletable(volume: models.Volume) -> None:
    """A volume attached to a VM, or in the middle of an operation, cannot be deleted."""
    if volume.instance_id is not None:
        raise errors.ResourceInUse(
            f"Please specify a volume that is not attached to any VM: {volume.uuid} is attached"
        )
    if State(volume.state) in machines.VOLUME.transitional:
        raise errors.ResourceUnavailable(
            f"Volume {volume.uuid} is {volume.state}: wait for that operation to finish"
        )


def release_limits(session: Session, volume: models.Volume) -> None:
    """Give back what ``create`` reserved for the volume (count 1 and its size)."""
    owner = session.get_one(account_models.Account, volume.account_id)
    limits.release(session, owner, resources.ResourceType.VOLUME, 1)
    limits.release(session, owner, resources.ResourceType.PRIMARY_STORAGE, volume.size or 0)


def expunge_record(
    session: Session,
    volume: models.Volume,
    now: datetime.datetime,
    actor: gate.ActorLike,
    *,
    release: bool = True,
) -> None:
    """A volume with nothing on any pool leaves: Destroy, Expunging, Expunged, removed; its
    limits are released in the same transaction (``release`` False: the caller releases
    them, as an uploaded volume counts secondary storage instead of primary)."""
    if State(volume.state) is not State.Destroy:
        gate.transition(session, volume, Event.DestroyRequested, actor=actor)
    gate.transition(session, volume, Event.ExpungingRequested, actor=actor)
    gate.transition(session, volume, Event.OperationSucceeded, actor=actor, values={"removed": now})
    if release:
        release_limits(session, volume)


def delete_record(
    session: Session,
    caller: access.Caller,
    volume: models.Volume,
    now: datetime.datetime,
) -> None:
    """deleteVolume of a volume on no pool (Allocated, or Destroy without a pool)."""
    check_deletable(volume)
    if volume.pool_id is not None:
        raise errors.ResourceUnavailable(
            f"Volume {volume.uuid} is on a pool: it must be deleted there first"
        )
    expunge_record(session, volume, now, caller)
