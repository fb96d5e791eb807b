"""Zones (``data_center``): create, update, delete, find and list.

Called by the zone API commands inside their transaction. Rules (CloudStack's): a zone name is
unique among live zones; DNS servers are IP addresses; a zone with pods (or primary storage,
image stores) cannot be deleted. Advanced zones get CloudStack's default guest CIDR
10.1.1.0/24 when none is given.
"""

from __future__ import annotations

import enum
import uuid as uuid_module
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.db import base, query, unique
from cirrostack.db.models import accounts, storage
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import addresses, rows

DEFAULT_GUEST_CIDR = "10.1.1.0/24"


class NetworkType(enum.StrEnum):
    Basic = "Basic"
    Advanced = "Advanced"


def network_type(text: str) -> NetworkType:
    """``Basic`` or ``Advanced`` (any case); InvalidParameterValue otherwise."""
    for kind in NetworkType:
        if kind.value.lower() == text.strip().lower():
            return kind
    raise errors.InvalidParameterValue(f"Invalid networktype {text}: it must be Basic or Advanced")


@dataclass(frozen=True)
class NewZone:
    """createZone's values, as given (validated by ``create``)."""

    name: str
    dns1: str
    internal_dns1: str
    network_type: str
    dns2: str | None = None
    internal_dns2: str | None = None
    ip6_dns1: str | None = None
    ip6_dns2: str | None = None
    domain: str | None = None
    domain_id: int | None = None
    guest_cidr: str | None = None
    local_storage: bool = False
    security_groups: bool = False
    allocation_state: str | None = None


@dataclass(frozen=True)
class ZoneChanges:
    """updateZone's values; None leaves a field alone (an empty ``domain`` clears it)."""

    name: str | None = None
    dns1: str | None = None
    dns2: str | None = None
    internal_dns1: str | None = None
    internal_dns2: str | None = None
    ip6_dns1: str | None = None
    ip6_dns2: str | None = None
    domain: str | None = None
    guest_cidr: str | None = None
    local_storage: bool | None = None
    allocation_state: str | None = None
    make_public: bool = False
    details: Mapping[str, str] = field(default_factory=dict)


def create(session: Session, new: NewZone) -> models.DataCenter:
    """Insert a zone; raises InvalidParameterValue for a bad or duplicate value."""
    kind = network_type(new.network_type)
    name = rows.require_name(new.name, "zone")
    zone = models.DataCenter(
        name=name,
        networktype=kind.value,
        domain_id=new.domain_id,
        # CloudStack forces security groups on in a Basic zone, whatever was asked.
        is_security_group_enabled=new.security_groups or kind is NetworkType.Basic,
        is_local_storage_enabled=new.local_storage,
        allocation_state=rows.AllocationState.Enabled.value,
        zone_token=str(uuid_module.uuid4()),
        guest_network_cidr=DEFAULT_GUEST_CIDR if kind is NetworkType.Advanced else None,
    )
    _apply_addresses(
        zone,
        dns1=new.dns1,
        dns2=new.dns2,
        internal_dns1=new.internal_dns1,
        internal_dns2=new.internal_dns2,
        ip6_dns1=new.ip6_dns1,
        ip6_dns2=new.ip6_dns2,
        guest_cidr=new.guest_cidr,
    )
    if new.domain is not None:
        zone.domain = _network_domain(new.domain)
    if new.allocation_state is not None:
        zone.allocation_state = rows.allocation_state(new.allocation_state).value
    with unique.refusing(session, NAME_KEY, _name_taken(name)):
        session.add(zone)
    return zone


def update(session: Session, zone: models.DataCenter, changes: ZoneChanges) -> models.DataCenter:
    """Apply ``changes`` to ``zone``; raises InvalidParameterValue for a bad or duplicate value."""
    if changes.name is not None and changes.name.strip() != zone.name:
        name = rows.require_name(changes.name, "zone")
        with unique.refusing(session, NAME_KEY, _name_taken(name)):
            zone.name = name
    _apply_addresses(
        zone,
        dns1=changes.dns1,
        dns2=changes.dns2,
        internal_dns1=changes.internal_dns1,
        internal_dns2=changes.internal_dns2,
        ip6_dns1=changes.ip6_dns1,
        ip6_dns2=changes.ip6_dns2,
        guest_cidr=changes.guest_cidr,
    )
    if changes.domain is not None:
        zone.domain = _network_domain(changes.domain) if changes.domain.strip() else None
    if changes.local_storage is not None:
        zone.is_local_storage_enabled = changes.local_storage
    if changes.allocation_state is not None:
        zone.allocation_state = rows.allocation_state(changes.allocation_state).value
    if changes.make_public:
        zone.domain_id = None
    _set_details(session, zone, changes.details)
    session.flush()
    return zone


def delete(session: Session, zone: models.DataCenter) -> None:
    """Soft-delete an empty zone; raises ResourceInUse naming what still lives in it."""
    pods = rows.names_of_live(session, models.HostPod, models.HostPod.data_center_id == zone.id)
    if pods:
        raise errors.ResourceInUse(
            f"The zone {zone.name} is not deletable because it has pods: {', '.join(pods)}"
        )
    for model, what in (
        (storage.StoragePool, "primary storage"),
        (storage.ImageStore, "image stores"),
    ):
        names = rows.names_of_live(session, model, model.data_center_id == zone.id)
        if names:
            raise errors.ResourceInUse(
                f"The zone {zone.name} is not deletable because it has {what}: {', '.join(names)}"
            )
    zone.removed = base.utcnow()
    session.flush()


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.DataCenter:
    """The live zone with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    return rows.live_by_uuid(session, models.DataCenter, uuid, "zone", parameter)


def details(session: Session, zone: models.DataCenter) -> dict[str, str]:
    """The zone's displayed details (``data_center_details``), by name."""
    return details_of(session, [zone.id]).get(zone.id, {})


def details_of(session: Session, zone_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The displayed details of each zone, in one query (a page of listZones)."""
    return _DETAILS.of(session, zone_ids)


_DETAILS = query.NameValues(
    models.DataCenterDetail.dc_id,
    models.DataCenterDetail.name,
    models.DataCenterDetail.value,
    models.DataCenterDetail.display.is_(True),
)


@dataclass(frozen=True)
class ZoneFilter:
    id: int | None = None
    name: str | None = None
    network_type: str | None = None
    domain_id: int | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: ZoneFilter, page: query.Page
) -> tuple[Sequence[models.DataCenter], int]:
    """Zones ``caller`` may see matching ``wanted``, one page and the total.

    A root admin sees every live zone; anyone else the Enabled zones that are public or
    dedicated to the caller's domain or one above it.
    """
    statement = sa.select(models.DataCenter).where(models.DataCenter.removed.is_(None))
    statement = statement.where(*_filters(wanted))
    if not caller.is_root_admin:
        statement = statement.where(
            models.DataCenter.allocation_state == rows.AllocationState.Enabled.value,
            _visible_to(caller),
        )
    found, total = query.paged(session, statement.order_by(models.DataCenter.id), page)
    return list(found), total


def _filters(wanted: ZoneFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if wanted.id is not None:
        conditions.append(models.DataCenter.id == wanted.id)
    if wanted.name is not None:
        conditions.append(query.same_name(models.DataCenter.name, wanted.name))
    if wanted.network_type is not None:
        conditions.append(models.DataCenter.networktype == network_type(wanted.network_type))
    if wanted.domain_id is not None:
        conditions.append(models.DataCenter.domain_id == wanted.domain_id)
    if wanted.keyword:
        conditions.append(query.matches_keyword(models.DataCenter.name, wanted.keyword))
    return conditions


def _visible_to(caller: access.Caller) -> sa.ColumnElement[bool]:
    """Public, or dedicated to the caller's domain or one of its ancestors."""
    parts = [part for part in caller.domain_path.split("/") if part]
    paths = ["/"] + ["/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]
    ancestors = sa.select(accounts.Domain.id).where(accounts.Domain.path.in_(paths))
    return sa.or_(models.DataCenter.domain_id.is_(None), models.DataCenter.domain_id.in_(ancestors))


#: The unique key over live zone names (migration 0004).
NAME_KEY = "uq_data_center_live_name"


def _name_taken(name: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(f"A zone with name {name} already exists")


_Parser = Callable[[str, str], object]

#: Address fields: keyword -> (column, parser, API parameter).
_ADDRESSES: Mapping[str, tuple[str, _Parser, str]] = {
    "dns1": ("dns1", addresses.ipv4, "dns1"),
    "dns2": ("dns2", addresses.ipv4, "dns2"),
    "internal_dns1": ("internal_dns1", addresses.ipv4, "internaldns1"),
    "internal_dns2": ("internal_dns2", addresses.ipv4, "internaldns2"),
    "ip6_dns1": ("ip6_dns1", addresses.ipv6, "ip6dns1"),
    "ip6_dns2": ("ip6_dns2", addresses.ipv6, "ip6dns2"),
    "guest_cidr": ("guest_network_cidr", addresses.cidr, "guestcidraddress"),
}


def _apply_addresses(zone: models.DataCenter, **values: str | None) -> None:
    """Validate and set the DNS servers and guest CIDR that were given."""
    for key, text in values.items():
        if text is not None:
            column, parse, parameter = _ADDRESSES[key]
            parse(text, parameter)
            setattr(zone, column, text.strip())


def _network_domain(text: str) -> str:
    labels = text.strip().rstrip(".").split(".")
    if len(text) > 100 or not all(_label_ok(label) for label in labels):
        raise errors.InvalidParameterValue(
            f"Invalid network domain {text}: use letters, digits and hyphens, "
            "labels separated by dots"
        )
    return text.strip()


def _label_ok(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label.isascii()
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
    )


def _set_details(session: Session, zone: models.DataCenter, wanted: Mapping[str, str]) -> None:
    for name, value in wanted.items():
        detail = session.scalars(
            sa.select(models.DataCenterDetail).where(
                models.DataCenterDetail.dc_id == zone.id, models.DataCenterDetail.name == name
            )
        ).first()
        if detail is None:
            session.add(models.DataCenterDetail(dc_id=zone.id, name=name, value=value))
        else:
            detail.value = value
