"""Disk offerings: the sizes, storage kinds and limits users pick data disks from.

``disk_size`` is stored in bytes (0 for a customized offering, whose size each volume picks);
the API speaks GB. Deleting an offering marks it ``Inactive`` (as CloudStack ≥ 4.17 does) and
also sets ``removed``, so code following either convention sees it gone; volumes made from it
keep their reference. The hidden root-disk offerings of service offerings (``compute_only``)
are never listed or changed here.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.config import keys, settings
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as models
from cirrostack.offerings import scope, storage


class State(enum.StrEnum):
    """``disk_offering.state`` and ``service_offering.state``."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True)
class NewDiskOffering:
    """What createDiskOffering asked for; ``disk_size_gb`` None for a customized offering."""

    name: str
    display_text: str
    disk_size_gb: int | None = None
    customized: bool = False
    storage: storage.StorageSpec = field(default_factory=storage.StorageSpec)
    display_offering: bool = True
    disk_size_strictness: bool = False
    scope: scope.Scope = field(default_factory=scope.Scope)


@dataclass(frozen=True)
class DiskOfferingChanges:
    """What updateDiskOffering asked for; None (or an unset rate) leaves a value as it is."""

    name: str | None = None
    display_text: str | None = None
    sort_key: int | None = None
    display_offering: bool | None = None
    tags: str | None = None
    cache_mode: storage.CacheMode | None = None
    rates: storage.RateLimits = field(default_factory=storage.RateLimits)
    domains: tuple[account_models.Domain, ...] | None = None
    zones: tuple[infrastructure.DataCenter, ...] | None = None


@dataclass(frozen=True)
class DiskOfferingFilter:
    """What listDiskOfferings asked for."""

    uuid: str | None = None
    name: str | None = None
    keyword: str | None = None
    domain: account_models.Domain | None = None
    zone: infrastructure.DataCenter | None = None
    isrecursive: bool = False
    encrypt: bool | None = None


def checked_text(value: str, parameter: str) -> str:
    """``value`` unless it is only blanks; InvalidParameterValue naming ``parameter``."""
    if not value.strip():
        raise errors.InvalidParameterValue(f"Specify a {parameter} that is not blank")
    return value


def by_uuid(session: Session, uuid: str, *, parameter: str = "id") -> models.DiskOffering:
    """The active, user-visible disk offering with ``uuid``; InvalidParameterValue if none."""
    offering = session.scalars(
        sa.select(models.DiskOffering).where(
            models.DiskOffering.uuid == uuid,
            models.DiskOffering.removed.is_(None),
            models.DiskOffering.state == State.ACTIVE.value,
            models.DiskOffering.compute_only.is_(False),
        )
    ).first()
    if offering is None:
        raise unknown(uuid, parameter)
    return offering


def size_of(session: Session, gigabytes: int, parameter: str) -> int:
    """``gigabytes`` in bytes, at most ``storage.max.volume.size`` (read now, so a new value
    applies at once); raises InvalidParameterValue naming ``parameter``."""
    maximum = settings.Settings(session).get(keys.STORAGE_MAX_VOLUME_SIZE)
    return storage.size_in_bytes(gigabytes, parameter, maximum)


def unknown(uuid: str, parameter: str = "id") -> errors.InvalidParameterValue:
    """The error for a disk offering id nobody has, or one the caller may not see."""
    return errors.InvalidParameterValue(f"Unable to find disk offering by {parameter} {uuid}")


def new_row(
    name: str,
    display_text: str,
    size_bytes: int,
    spec: storage.StorageSpec,
    *,
    customized: bool = False,
    compute_only: bool = False,
) -> models.DiskOffering:
    """A disk offering row with ``spec`` checked and applied (not yet added to a session)."""
    row = models.DiskOffering(
        name=name,
        display_text=display_text,
        disk_size=size_bytes,
        customized=customized,
        compute_only=compute_only,
        state=State.ACTIVE.value,
    )
    spec.write_to(row)
    return row


def create(session: Session, caller: access.Caller, new: NewDiskOffering) -> models.DiskOffering:
    """Create a disk offering; raises InvalidParameterValue or PermissionDenied."""
    what = f"disk offering {new.name}"
    scope.check_may_manage(caller, new.scope, what)
    scope.check_may_tag(caller, new.storage.tags)
    if new.customized and new.disk_size_gb is not None:
        raise errors.InvalidParameterValue(
            "disksize is not allowed for a customized disk offering: each volume picks its size"
        )
    if not new.customized and new.disk_size_gb is None:
        raise errors.InvalidParameterValue(
            "disksize is required for a disk offering that is not customized"
        )
    size = 0 if new.disk_size_gb is None else size_of(session, new.disk_size_gb, "disksize")
    row = new_row(
        checked_text(new.name, "name"),
        checked_text(new.display_text, "displaytext"),
        size,
        new.storage,
        customized=new.customized,
    )
    row.display_offering = new.display_offering
    row.disk_size_strictness = new.disk_size_strictness
    session.add(row)
    session.flush()
    scope.write(session, scope.DISK, row.id, new.scope)
    return row


def update(
    session: Session,
    caller: access.Caller,
    offering: models.DiskOffering,
    changes: DiskOfferingChanges,
) -> models.DiskOffering:
    """Change names, display, sort key, tags, cache mode, rate limits or restrictions."""
    what = f"disk offering {offering.name}"
    current = scope.read(session, scope.DISK, offering.id)
    wanted = scope.changed(caller, current, changes.domains, changes.zones)
    scope.check_may_manage(caller, current, what)
    scope.check_may_manage(caller, wanted, what)
    scope.check_may_tag(caller, changes.tags)
    if changes.name is not None:
        offering.name = checked_text(changes.name, "name")
    if changes.display_text is not None:
        offering.display_text = checked_text(changes.display_text, "displaytext")
    if changes.sort_key is not None:
        offering.sort_key = changes.sort_key
    if changes.display_offering is not None:
        offering.display_offering = changes.display_offering
    if changes.tags is not None:
        offering.tags = storage.clean_tags(changes.tags)
    if changes.cache_mode is not None:
        offering.cache_mode = changes.cache_mode.value
    update_rates(offering, changes.rates)
    if wanted != current:
        scope.write(session, scope.DISK, offering.id, wanted)
    session.flush()
    return offering


def update_rates(offering: models.DiskOffering, given: storage.RateLimits) -> None:
    """Merge the given limits into the stored ones (0 removes a limit) and check the result."""
    current = {name: getattr(offering, name) for name in storage.RATE_FIELDS}
    merged = storage.RateLimits(**(current | given.given() | _zeros(given)))
    storage.write_rates(offering, merged.checked())


def _zeros(given: storage.RateLimits) -> dict[str, int]:
    return {name: 0 for name in storage.RATE_FIELDS if getattr(given, name) == 0}


def delete(
    session: Session, caller: access.Caller, offering: models.DiskOffering, now: datetime.datetime
) -> None:
    """Retire a disk offering: Inactive, removed; it no longer lists or serves new volumes."""
    scope.check_may_manage(
        caller, scope.read(session, scope.DISK, offering.id), f"disk offering {offering.name}"
    )
    retire(offering, now)
    session.flush()


def retire(offering: models.DiskOffering, now: datetime.datetime) -> None:
    """Mark ``offering`` deleted (no access check)."""
    offering.state = State.INACTIVE.value
    offering.removed = now


def search(
    session: Session, caller: access.Caller, wanted: DiskOfferingFilter, page: query.Page
) -> tuple[Sequence[models.DiskOffering], int]:
    """listDiskOfferings: active, user-visible offerings the caller may see."""
    offering = models.DiskOffering
    statement = sa.select(offering).where(
        offering.removed.is_(None),
        offering.state == State.ACTIVE.value,
        offering.compute_only.is_(False),
    )
    if not caller.is_root_admin:
        statement = statement.where(offering.display_offering.is_(True))
    if wanted.domain is not None:
        statement = statement.where(
            scope.restricted_to(caller, scope.DISK, offering.id, wanted.domain)
        )
    else:
        statement = statement.where(
            scope.visible_to(session, caller, scope.DISK, offering.id, recursive=wanted.isrecursive)
        )
    if wanted.zone is not None:
        statement = statement.where(scope.usable_in(scope.DISK, offering.id, wanted.zone))
    statement = statement.where(
        *query.equal_to_given(
            (offering.uuid, wanted.uuid),
            (offering.encrypt, wanted.encrypt),
        ),
        *query.named_as_given((offering.name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(
            query.keyword_in(wanted.keyword, offering.name, offering.display_text)
        )
    return query.paged(session, statement.order_by(offering.sort_key, offering.id), page)
