"""createNetworkOffering, updateNetworkOffering, deleteNetworkOffering and the listing.

Rules (CloudStack's): a new offering is Disabled unless ``enable`` says otherwise; its unique
name is its name, so two live offerings cannot share one (the unique key decides); a service
without a provider gets VirtualRouter; a seeded (default) offering and one that live networks
use cannot be deleted. System offerings are never listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.db import base, query, unique
from cirrostack.db.models import network as models
from cirrostack.infrastructure import rows
from cirrostack.network import services

AVAILABILITIES = ("Required", "Optional", "Unavailable")
STATES = ("Enabled", "Disabled")
#: A live offering's name, regardless of case, and the (case-sensitive) unique name.
NAME_KEYS = ("uq_network_offerings_live_name", "uq_network_offerings_unique_name")


def _choice(text: str, allowed: Sequence[str], parameter: str) -> str:
    for value in allowed:
        if value.lower() == text.strip().lower():
            return value
    raise errors.InvalidParameterValue(
        f"Invalid {parameter} {text}: it must be one of {', '.join(allowed)}"
    )


@dataclass(frozen=True)
class NewOffering:
    """createNetworkOffering's values."""

    name: str
    display_text: str | None
    guest_type: str
    traffic_type: str = "Guest"
    supported_services: Sequence[str] = ()
    providers: Mapping[str, str] = field(default_factory=dict)
    specify_vlan: bool = False
    specify_ip_ranges: bool | None = None
    availability: str | None = None
    conserve_mode: bool = True
    is_persistent: bool = False
    egress_default_policy: bool = True
    for_vpc: bool = False
    tags: str | None = None
    network_rate: int | None = None
    max_connections: int | None = None
    enable: bool = False


def _service_map(new: NewOffering) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    known_providers = {name.lower(): name for name in new.providers}
    for text in new.supported_services:
        service = services.service(text)
        if service is None:
            raise errors.InvalidParameterValue(f"Invalid network service {text}")
        given = new.providers.get(known_providers.get(service.value.lower(), ""), "")
        provider = services.provider(given) if given else services.Provider.VirtualRouter
        if provider is None:
            raise errors.InvalidParameterValue(
                f"Invalid service provider {given} for service {service.value}"
            )
        if service not in services.PROVIDER_SERVICES[provider]:
            raise errors.InvalidParameterValue(
                f"Provider {provider.value} does not provide service {service.value}"
            )
        pairs.append((service.value, provider.value))
    return list(dict.fromkeys(pairs))


def create(session: Session, new: NewOffering) -> models.NetworkOffering:
    """Insert an offering and its service map; a taken name is refused by the unique key."""
    name = rows.require_name(new.name, "network offering")
    guest = _choice(new.guest_type, ("Shared", "Isolated", "L2"), "guestiptype")
    if new.traffic_type.strip().lower() != "guest":
        raise errors.InvalidParameterValue(
            f"Invalid traffictype {new.traffic_type}: only Guest offerings can be created"
        )
    pairs = _service_map(new)
    if guest == "L2" and any(service != services.Service.UserData.value for service, _ in pairs):
        raise errors.InvalidParameterValue("An L2 network offering supports only UserData")
    offering = models.NetworkOffering(
        name=name,
        unique_name=name,
        display_text=new.display_text or name,
        traffic_type="Guest",
        guest_type=guest,
        state="Enabled" if new.enable else "Disabled",
        availability=_choice(new.availability or "Optional", AVAILABILITIES, "availability"),
        tags=new.tags,
        nw_rate=new.network_rate,
        concurrent_connections=new.max_connections,
        default=False,
        specify_vlan=new.specify_vlan,
        specify_ip_ranges=(
            new.specify_ip_ranges if new.specify_ip_ranges is not None else guest == "Shared"
        ),
        is_persistent=new.is_persistent,
        conserve_mode=new.conserve_mode,
        egress_default_policy=new.egress_default_policy,
        for_vpc=new.for_vpc,
    )
    refusal = errors.InvalidParameterValue(f"Network offering with name {name} already exists")
    with unique.refusing(session, NAME_KEYS, refusal):
        session.add(offering)
        session.flush()
    for service, provider in pairs:
        session.add(
            models.NetworkOfferingService(
                network_offering_id=offering.id, service=service, provider=provider
            )
        )
    session.flush()
    return offering


@dataclass(frozen=True)
class Changes:
    """updateNetworkOffering's values; None leaves a value as it is."""

    name: str | None = None
    display_text: str | None = None
    availability: str | None = None
    state: str | None = None
    sort_key: int | None = None
    max_connections: int | None = None
    tags: str | None = None


def update(session: Session, offering: models.NetworkOffering, changes: Changes) -> None:
    if changes.name is not None:
        name = rows.require_name(changes.name, "network offering")
        refusal = errors.InvalidParameterValue(f"Network offering with name {name} already exists")
        with unique.refusing(session, NAME_KEYS, refusal):
            offering.name = offering.unique_name = name
            session.flush()
    if changes.display_text is not None:
        offering.display_text = changes.display_text
    if changes.availability is not None:
        offering.availability = _choice(changes.availability, AVAILABILITIES, "availability")
    if changes.state is not None:
        offering.state = _choice(changes.state, STATES, "state")
    if changes.sort_key is not None:
        offering.sort_key = changes.sort_key
    if changes.max_connections is not None:
        offering.concurrent_connections = changes.max_connections
    if changes.tags is not None:
        offering.tags = changes.tags or None
    session.flush()


def delete(session: Session, offering: models.NetworkOffering) -> None:
    if offering.default:
        raise errors.InvalidParameterValue("Default network offering can't be deleted")
    in_use = rows.count_live(
        session, models.Network, models.Network.network_offering_id == offering.id
    )
    if in_use:
        raise errors.ResourceInUse(
            f"Can't delete network offering {offering.uuid} as its used by {in_use} networks. "
            "To make the network offering unavailable, disable it"
        )
    offering.removed = base.utcnow()
    # The unique name is freed for a new offering, as CloudStack's removed rows do not hold it.
    offering.unique_name = None
    offering.state = "Inactive"
    session.flush()


@dataclass(frozen=True)
class Filter:
    """What listNetworkOfferings asked for."""

    uuid: str | None = None
    name: str | None = None
    display_text: str | None = None
    keyword: str | None = None
    guest_type: str | None = None
    traffic_type: str | None = None
    state: str | None = None
    availability: str | None = None
    is_default: bool | None = None
    specify_vlan: bool | None = None
    specify_ip_ranges: bool | None = None
    for_vpc: bool | None = None
    is_tagged: bool | None = None
    tags: str | None = None
    supported_services: Sequence[str] = ()
    source_nat_supported: bool | None = None
    only_ids: Sequence[int] | None = None


def search(
    session: Session, caller: access.Caller, wanted: Filter, page: query.Page
) -> tuple[Sequence[models.NetworkOffering], int]:
    offering = models.NetworkOffering
    statement = sa.select(offering).where(
        offering.removed.is_(None),
        offering.system_only.is_(False),
        *query.equal_to_given(
            (offering.uuid, wanted.uuid),
            (offering.default, wanted.is_default),
            (offering.specify_vlan, wanted.specify_vlan),
            (offering.specify_ip_ranges, wanted.specify_ip_ranges),
            (offering.for_vpc, wanted.for_vpc),
        ),
        *query.named_as_given(
            (offering.name, wanted.name),
            (offering.display_text, wanted.display_text),
            (offering.guest_type, wanted.guest_type),
            (offering.traffic_type, wanted.traffic_type),
            (offering.state, wanted.state),
            (offering.availability, wanted.availability),
            (offering.tags, wanted.tags),
        ),
    )
    if not caller.is_root_admin:
        statement = statement.where(offering.state == "Enabled")
    if wanted.keyword:
        statement = statement.where(
            query.keyword_in(wanted.keyword, offering.name, offering.display_text)
        )
    if wanted.is_tagged is not None:
        tagged = offering.tags.is_not(None)
        statement = statement.where(tagged if wanted.is_tagged else sa.not_(tagged))
    for text in wanted.supported_services:
        statement = statement.where(offering.id.in_(_offering_ids_with(text)))
    if wanted.source_nat_supported is not None:
        with_nat = offering.id.in_(_offering_ids_with(services.Service.SourceNat.value))
        statement = statement.where(with_nat if wanted.source_nat_supported else sa.not_(with_nat))
    if wanted.only_ids is not None:
        statement = statement.where(offering.id.in_(wanted.only_ids or [-1]))
    found, total = query.paged(session, statement.order_by(offering.sort_key, offering.id), page)
    return list(found), total


def _offering_ids_with(service_text: str) -> sa.Select[int]:
    known = services.service(service_text)
    if known is None:
        raise errors.InvalidParameterValue(f"Invalid network service {service_text}")
    return sa.select(models.NetworkOfferingService.network_offering_id).where(
        models.NetworkOfferingService.service == known.value
    )
