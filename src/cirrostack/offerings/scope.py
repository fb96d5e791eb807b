"""Where an offering may be used, who sees it in lists, and who may manage it.

Restrictions are kept as CloudStack (≥ 4.14) keeps them: one details row per domain (name
``domainid``) and per zone (``zoneid``), the value being the numeric id. No ``domainid`` row
means public; no ``zoneid`` row means every zone.

- A root admin sees and manages every offering.
- Anyone else sees public offerings and those restricted to its own domain or a domain above
  it (with ``isrecursive``, also those of domains below it).
- A domain admin manages offerings restricted to domains inside its subtree, never public ones,
  and sets no storage or host tags (CloudStack's ``allow.domain.admins.to.create.tagged.offerings``
  defaults to false; a module constant here until settings reach offerings).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, domains, reach
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as models

DOMAIN_KEY = "domainid"
ZONE_KEY = "zoneid"
#: CloudStack's ``allow.domain.admins.to.create.tagged.offerings`` default.
DOMAIN_ADMINS_MAY_TAG = False


@dataclass(frozen=True)
class Details:
    """One offering details table: its model and the column naming the offering."""

    model: Any
    owner: Any


DISK = Details(models.DiskOfferingDetail, models.DiskOfferingDetail.offering_id)
SERVICE = Details(models.ServiceOfferingDetail, models.ServiceOfferingDetail.service_offering_id)


@dataclass(frozen=True)
class Scope:
    """The domains (none: public) and zones (none: all) an offering is restricted to."""

    domains: tuple[account_models.Domain, ...] = ()
    zones: tuple[infrastructure.DataCenter, ...] = ()

    @property
    def public(self) -> bool:
        return not self.domains


def domains_named(
    session: Session,
    uuids: Iterable[str],
    parameter: str = "domainid",
    caller: access.Caller | None = None,
) -> tuple[account_models.Domain, ...]:
    """The live domains ``uuids`` name, minus any below another one (it adds nothing).

    With ``caller``, a domain it may not know of is answered like an unknown id (``reach``).
    """
    named = (
        domains.by_uuid(session, u, parameter=parameter)
        if caller is None
        else reach.domain(session, caller, u, parameter=parameter)
        for u in uuids
    )
    found = {d.id: d for d in named}
    kept = [
        domain
        for domain in found.values()
        if not any(
            other.id != domain.id and domain.path.startswith(other.path) for other in found.values()
        )
    ]
    return tuple(sorted(kept, key=lambda domain: domain.path))


def zones_named(
    session: Session, uuids: Iterable[str], parameter: str = "zoneid"
) -> tuple[infrastructure.DataCenter, ...]:
    """The live zones ``uuids`` name; InvalidParameterValue for an unknown one."""
    zones: dict[int, infrastructure.DataCenter] = {}
    for uuid in uuids:
        zone = zone_by_uuid(session, uuid, parameter)
        zones[zone.id] = zone
    return tuple(sorted(zones.values(), key=lambda zone: zone.id))


def zone_by_uuid(
    session: Session, uuid: str, parameter: str = "zoneid"
) -> infrastructure.DataCenter:
    """The live zone with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    zone = session.scalars(
        sa.select(infrastructure.DataCenter).where(
            infrastructure.DataCenter.uuid == uuid, infrastructure.DataCenter.removed.is_(None)
        )
    ).first()
    if zone is None:
        raise errors.InvalidParameterValue(f"Unable to find zone by {parameter} {uuid}")
    return zone


def read(session: Session, details: Details, offering_id: int) -> Scope:
    """The restrictions stored for an offering."""
    return read_each(session, details, [offering_id])[offering_id]


def read_each(session: Session, details: Details, offering_ids: Sequence[int]) -> dict[int, Scope]:
    """The restrictions of each offering, in three queries whatever their number (a page of
    listDiskOfferings or listServiceOfferings)."""
    rows = session.execute(
        sa.select(details.owner, details.model.name, details.model.value).where(
            details.owner.in_(sorted(set(offering_ids))),
            details.model.name.in_((DOMAIN_KEY, ZONE_KEY)),
        )
    ).all()
    domain_ids = {int(value) for _, name, value in rows if name == DOMAIN_KEY}
    zone_ids = {int(value) for _, name, value in rows if name == ZONE_KEY}
    found_domains = session.scalars(
        sa.select(account_models.Domain)
        .where(account_models.Domain.id.in_(sorted(domain_ids)))
        .order_by(account_models.Domain.path)
    ).all()
    found_zones = session.scalars(
        sa.select(infrastructure.DataCenter)
        .where(infrastructure.DataCenter.id.in_(sorted(zone_ids)))
        .order_by(infrastructure.DataCenter.id)
    ).all()
    stored = {(int(owner), name, int(value)) for owner, name, value in rows}
    return {
        offering: Scope(
            tuple(d for d in found_domains if (offering, DOMAIN_KEY, d.id) in stored),
            tuple(z for z in found_zones if (offering, ZONE_KEY, z.id) in stored),
        )
        for offering in offering_ids
    }


def write(session: Session, details: Details, offering_id: int, scope: Scope) -> None:
    """Replace the offering's restriction rows with ``scope``'s."""
    session.execute(
        sa.delete(details.model).where(
            details.owner == offering_id, details.model.name.in_((DOMAIN_KEY, ZONE_KEY))
        )
    )
    rows = [(DOMAIN_KEY, domain.id) for domain in scope.domains]
    rows += [(ZONE_KEY, zone.id) for zone in scope.zones]
    for name, value in rows:
        session.add(
            details.model(
                **{details.owner.key: offering_id}, name=name, value=str(value), display=False
            )
        )
    session.flush()


def changed(
    caller: access.Caller,
    current: Scope,
    domains: tuple[account_models.Domain, ...] | None,
    zones: tuple[infrastructure.DataCenter, ...] | None,
) -> Scope:
    """``current`` with the given parts replaced (None keeps a part); only root admins may
    change zones (PermissionDenied)."""
    wanted = Scope(
        current.domains if domains is None else domains,
        current.zones if zones is None else zones,
    )
    if not caller.is_root_admin and wanted.zones != current.zones:
        raise errors.PermissionDenied(
            f"Account {caller.account_name} may not change the zones of an offering"
        )
    return wanted


def check_may_manage(caller: access.Caller, scope: Scope, what: str) -> None:
    """Raise PermissionDenied unless the caller may create, change or delete ``what``."""
    if caller.is_root_admin:
        return
    if not caller.is_domain_admin:
        raise errors.PermissionDenied(f"Only administrators may manage {what}")
    if scope.public:
        raise errors.PermissionDenied(
            f"A domain admin may not manage {what} while it is public: give domainid"
        )
    outside = [d.uuid for d in scope.domains if not d.path.startswith(caller.domain_path)]
    if outside:
        raise errors.PermissionDenied(
            f"Account {caller.account_name} may not manage {what} for domain(s) "
            f"{', '.join(outside)} outside its own domain"
        )


def check_may_tag(caller: access.Caller, *tags: str | None) -> None:
    """Raise PermissionDenied if a domain admin sets storage or host tags."""
    if caller.is_domain_admin and not DOMAIN_ADMINS_MAY_TAG and any(tags):
        raise errors.PermissionDenied(
            f"Account {caller.account_name} may not set storage or host tags on offerings "
            "(allow.domain.admins.to.create.tagged.offerings is false)"
        )


# --- listing ---------------------------------------------------------------------------------


def visible_to(
    session: Session,
    caller: access.Caller,
    details: Details,
    offering_id: Any,
    *,
    recursive: bool,
) -> sa.ColumnElement[bool]:
    """Condition on ``offering_id``: public, or restricted to a domain the caller may see."""
    if caller.is_root_admin:
        return sa.true()
    own = session.get_one(account_models.Domain, caller.domain_id)
    related = sa.select(account_models.Domain.id).where(
        account_models.Domain.removed.is_(None),
        sa.or_(
            account_models.Domain.path.in_(_ancestor_paths(own.path)),
            query.under_path(account_models.Domain.path, own.path) if recursive else sa.false(),
        ),
    )
    ids = [str(value) for value in session.scalars(related)]
    restricted = sa.select(details.owner).where(details.model.name == DOMAIN_KEY)
    allowed = restricted.where(details.model.value.in_(ids))
    return sa.or_(offering_id.not_in(restricted), offering_id.in_(allowed))


def sees(session: Session, caller: access.Caller, details: Details, offering_id: int) -> bool:
    """Whether the caller's lists may show the offering ``offering_id`` (public or in reach).

    Called by the lookups by id: an offering the caller cannot see is answered like an
    unknown id, naming neither it nor its domains.
    """
    condition = visible_to(
        session, caller, details, sa.literal(offering_id), recursive=caller.is_domain_admin
    )
    return session.scalar(sa.select(sa.literal(1)).where(condition)) is not None


def restricted_to(
    caller: access.Caller, details: Details, offering_id: Any, domain: account_models.Domain
) -> sa.ColumnElement[bool]:
    """Condition: restricted to exactly ``domain`` (listing with ``domainid``).

    A user may ask about its own domain and those above it, a domain admin also about those
    below it; anything else is PermissionDenied.
    """
    above = domain.path in _ancestor_paths(caller.domain_path)
    below = caller.is_domain_admin and domain.path.startswith(caller.domain_path)
    if not (caller.is_root_admin or above or below):
        raise errors.PermissionDenied(
            f"Account {caller.account_name} does not have permission to access domain {domain.uuid}"
        )
    chosen = sa.select(details.owner).where(
        details.model.name == DOMAIN_KEY, details.model.value == str(domain.id)
    )
    condition: sa.ColumnElement[bool] = offering_id.in_(chosen)
    return condition


def usable_in(details: Details, offering_id: Any, zone: infrastructure.DataCenter) -> Any:
    """Condition: the offering may be used in ``zone`` (it names it, or names no zone)."""
    zoned = sa.select(details.owner).where(details.model.name == ZONE_KEY)
    return sa.or_(
        offering_id.not_in(zoned),
        offering_id.in_(zoned.where(details.model.value == str(zone.id))),
    )


def _ancestor_paths(path: str) -> Sequence[str]:
    """``/a/b/`` → ``/``, ``/a/``, ``/a/b/``."""
    parts = [part for part in path.split("/") if part]
    return ["/"] + ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
