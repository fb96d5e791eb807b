"""Physical networks of a zone, their traffic types and their service providers.

Rules (CloudStack's): a physical network belongs to one zone; it is created Disabled with the
providers every physical network is seeded with (``services.PROVIDER_SERVICES``); a traffic
type appears once per physical network; a physical network with live networks on it cannot be
deleted (its networks lock it: ``lock``). Names are not unique, as in CloudStack.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import base, query, unique
from cirrostack.db.models import infrastructure
from cirrostack.db.models import network as network_models
from cirrostack.db.models import physical_network as models
from cirrostack.infrastructure import rows
from cirrostack.network import services, vlans


class TrafficType(enum.StrEnum):
    """Networks.TrafficType (the ones a physical network carries)."""

    Guest = "Guest"
    Public = "Public"
    Management = "Management"
    Storage = "Storage"


ISOLATION_METHODS = ("VLAN", "VXLAN", "GRE", "STT", "BCF_SEGMENT", "SSP", "ODL", "L3VPN", "VSP",
                     "VCS", "TF", "NSX")  # fmt: skip
BROADCAST_RANGES = ("ZONE", "POD")
STATES = ("Enabled", "Disabled")


@dataclass(frozen=True)
class NewPhysicalNetwork:
    """createPhysicalNetwork's values."""

    name: str
    zone: infrastructure.DataCenter
    vlan: str | None = None
    speed: str | None = None
    domain_id: int | None = None
    broadcast_domain_range: str | None = None
    isolation_methods: Sequence[str] = ()
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class Changes:
    """updatePhysicalNetwork's values; None leaves a value as it is."""

    state: str | None = None
    vlan: str | None = None
    speed: str | None = None
    tags: Sequence[str] | None = None


def _choice(text: str, allowed: Sequence[str], parameter: str) -> str:
    for value in allowed:
        if value.lower() == text.strip().lower():
            return value
    raise errors.InvalidParameterValue(
        f"Invalid {parameter} {text}: it must be one of {', '.join(allowed)}"
    )


def create(session: Session, new: NewPhysicalNetwork) -> models.PhysicalNetwork:
    """A Disabled physical network with its tags, isolation methods and seeded providers."""
    name = rows.require_name(new.name, "physical network")
    methods = [_choice(m, ISOLATION_METHODS, "isolationmethods") for m in new.isolation_methods]
    basic = new.zone.networktype == "Basic"
    default_range = "ZONE" if not basic else "POD"
    found = models.PhysicalNetwork(
        name=name,
        data_center_id=new.zone.id,
        vnet=None if new.vlan is None else vlans.checked_ranges(new.vlan),
        speed=new.speed,
        domain_id=new.domain_id,
        broadcast_domain_range=_choice(
            new.broadcast_domain_range or default_range, BROADCAST_RANGES, "broadcastdomainrange"
        ),
        state="Disabled",
    )
    session.add(found)
    session.flush()
    for method in dict.fromkeys(methods or ["VLAN"]):
        session.add(
            models.PhysicalNetworkIsolationMethod(
                physical_network_id=found.id, isolation_method=method
            )
        )
    _write_tags(session, found, new.tags)
    for provider, offered in services.PROVIDER_SERVICES.items():
        session.add(_provider_row(found.id, provider, offered))
    session.flush()
    return found


def _provider_row(
    physical_network_id: int, provider: services.Provider, offered: Sequence[services.Service]
) -> models.PhysicalNetworkServiceProvider:
    row = models.PhysicalNetworkServiceProvider(
        physical_network_id=physical_network_id,
        provider_name=provider.value,
        state=services.INITIAL_STATE[provider],
    )
    for service in offered:
        setattr(row, services.COLUMN[service], True)
    return row


def _write_tags(session: Session, found: models.PhysicalNetwork, tags: Sequence[str]) -> None:
    session.execute(
        sa.delete(models.PhysicalNetworkTag).where(
            models.PhysicalNetworkTag.physical_network_id == found.id
        )
    )
    for tag in dict.fromkeys(tag.strip() for tag in tags if tag.strip()):
        session.add(models.PhysicalNetworkTag(physical_network_id=found.id, tag=tag))


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.PhysicalNetwork:
    """The live physical network with ``uuid``; InvalidParameterValue if none."""
    return rows.live_by_uuid(session, models.PhysicalNetwork, uuid, "physical network", parameter)


def lock(session: Session, found: models.PhysicalNetwork) -> models.PhysicalNetwork:
    """Lock the physical network row (shared) and re-read it: creates of networks on it and
    its delete (``delete`` locks it exclusively) serialise. Refuses one removed meanwhile."""
    locked = session.scalars(
        sa.select(models.PhysicalNetwork)
        .where(models.PhysicalNetwork.id == found.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).one()
    if locked.removed is not None:
        raise errors.InvalidParameterValue(f"Unable to find physical network by id {found.uuid}")
    return locked


def update(session: Session, found: models.PhysicalNetwork, changes: Changes) -> None:
    if changes.state is not None:
        found.state = _choice(changes.state, STATES, "state")
    if changes.vlan is not None:
        found.vnet = vlans.checked_ranges(changes.vlan) if changes.vlan.strip() else None
    if changes.speed is not None:
        found.speed = changes.speed
    if changes.tags is not None:
        _write_tags(session, found, changes.tags)
    session.flush()


def delete(session: Session, found: models.PhysicalNetwork) -> None:
    """Remove a physical network that no live network uses (locked exclusively first)."""
    session.scalars(
        sa.select(models.PhysicalNetwork.id)
        .where(models.PhysicalNetwork.id == found.id)
        .with_for_update()
    ).one()
    in_use = rows.count_live(
        session, network_models.Network, network_models.Network.physical_network_id == found.id
    )
    if in_use:
        raise errors.ResourceInUse(
            f"Unable to delete physical network {found.uuid}: {in_use} network(s) still use it"
        )
    found.removed = base.utcnow()
    session.execute(
        sa.update(models.PhysicalNetworkServiceProvider)
        .where(models.PhysicalNetworkServiceProvider.physical_network_id == found.id)
        .values(removed=found.removed)
    )
    session.flush()


@dataclass(frozen=True)
class Filter:
    uuid: str | None = None
    name: str | None = None
    zone_id: int | None = None
    keyword: str | None = None


def search(
    session: Session, wanted: Filter, page: query.Page
) -> tuple[Sequence[models.PhysicalNetwork], int]:
    statement = sa.select(models.PhysicalNetwork).where(
        models.PhysicalNetwork.removed.is_(None),
        *query.equal_to_given(
            (models.PhysicalNetwork.uuid, wanted.uuid),
            (models.PhysicalNetwork.data_center_id, wanted.zone_id),
        ),
        *query.named_as_given((models.PhysicalNetwork.name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(
            query.matches_keyword(models.PhysicalNetwork.name, wanted.keyword)
        )
    found, total = query.paged(session, statement.order_by(models.PhysicalNetwork.id), page)
    return list(found), total


def tags_of(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    """Each physical network's tags, in one query."""
    return _grouped(session, models.PhysicalNetworkTag.physical_network_id,
                    models.PhysicalNetworkTag.tag, ids)  # fmt: skip


def isolation_methods_of(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    """Each physical network's isolation methods, in one query."""
    column = models.PhysicalNetworkIsolationMethod
    return _grouped(session, column.physical_network_id, column.isolation_method, ids)


def _grouped(session: Session, key: Any, value: Any, ids: Sequence[int]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    if not ids:
        return grouped
    for owner, text in session.execute(
        sa.select(key, value).where(key.in_(ids)).order_by(key, value)
    ):
        grouped.setdefault(owner, []).append(text)
    return grouped


# --- traffic types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """The host bridge names of a traffic type, per hypervisor."""

    kvm: str | None = None
    xenserver: str | None = None
    vmware: str | None = None
    simulator: str | None = None
    hyperv: str | None = None
    ovm3: str | None = None


def traffic_type(text: str) -> TrafficType:
    return TrafficType(_choice(text, [kind.value for kind in TrafficType], "traffictype"))


#: The unique key of a traffic type per physical network.
TRAFFIC_KEY = "uq_physical_network_traffic_types_physical_network_id_traffic_type"


def add_traffic_type(
    session: Session,
    found: models.PhysicalNetwork,
    kind: TrafficType,
    labels: Labels,
    vlan: str | None = None,
) -> models.PhysicalNetworkTrafficType:
    """Record that ``found`` carries ``kind``; the unique key refuses a second one."""
    row = models.PhysicalNetworkTrafficType(
        physical_network_id=found.id,
        traffic_type=kind.value,
        kvm_network_label=labels.kvm,
        xenserver_network_label=labels.xenserver,
        vmware_network_label=labels.vmware,
        simulator_network_label=labels.simulator,
        hyperv_network_label=labels.hyperv,
        ovm3_network_label=labels.ovm3,
        vlan=vlan,
    )
    refusal = errors.InvalidParameterValue(
        f"Traffic type {kind.value} is already added to the physical network {found.uuid}"
    )
    with unique.refusing(session, TRAFFIC_KEY, refusal):
        session.add(row)
        session.flush()
    return row


def relabel(session: Session, row: models.PhysicalNetworkTrafficType, labels: Labels) -> None:
    """updateTrafficType: the labels given replace the current ones; None keeps one."""
    for name, column in (
        ("kvm", "kvm_network_label"),
        ("xenserver", "xenserver_network_label"),
        ("vmware", "vmware_network_label"),
        ("hyperv", "hyperv_network_label"),
        ("ovm3", "ovm3_network_label"),
    ):
        value = getattr(labels, name)
        if value is not None:
            setattr(row, column, value or None)
    session.flush()


def traffic_type_by_uuid(
    session: Session, uuid: str, parameter: str = "id"
) -> models.PhysicalNetworkTrafficType:
    found = session.scalars(
        sa.select(models.PhysicalNetworkTrafficType).where(
            models.PhysicalNetworkTrafficType.uuid == uuid
        )
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find traffic type by {parameter} {uuid}")
    return found


def delete_traffic_type(session: Session, row: models.PhysicalNetworkTrafficType) -> None:
    """Remove a traffic type no live network of its physical network carries."""
    in_use = rows.count_live(
        session,
        network_models.Network,
        network_models.Network.physical_network_id == row.physical_network_id,
        network_models.Network.traffic_type == row.traffic_type,
    )
    if in_use:
        raise errors.ResourceInUse(
            f"Unable to delete traffic type {row.traffic_type}: {in_use} network(s) carry it"
        )
    session.delete(row)
    session.flush()


def traffic_types_of(
    session: Session, physical_network_id: int
) -> Sequence[models.PhysicalNetworkTrafficType]:
    return session.scalars(
        sa.select(models.PhysicalNetworkTrafficType)
        .where(models.PhysicalNetworkTrafficType.physical_network_id == physical_network_id)
        .order_by(models.PhysicalNetworkTrafficType.id)
    ).all()


def carrying(session: Session, zone_id: int, kind: TrafficType) -> models.PhysicalNetwork | None:
    """The zone's first live physical network carrying ``kind``; None if none does."""
    return session.scalars(
        sa.select(models.PhysicalNetwork)
        .join(
            models.PhysicalNetworkTrafficType,
            models.PhysicalNetworkTrafficType.physical_network_id == models.PhysicalNetwork.id,
        )
        .where(
            models.PhysicalNetwork.data_center_id == zone_id,
            models.PhysicalNetwork.removed.is_(None),
            models.PhysicalNetworkTrafficType.traffic_type == kind.value,
        )
        .order_by(models.PhysicalNetwork.id)
    ).first()


# --- service providers -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderFilter:
    physical_network_id: int | None = None
    name: str | None = None
    state: str | None = None


def providers(
    session: Session, wanted: ProviderFilter, page: query.Page
) -> tuple[Sequence[models.PhysicalNetworkServiceProvider], int]:
    model = models.PhysicalNetworkServiceProvider
    statement = sa.select(model).where(
        model.removed.is_(None),
        *query.equal_to_given((model.physical_network_id, wanted.physical_network_id)),
        *query.named_as_given((model.provider_name, wanted.name), (model.state, wanted.state)),
    )
    found, total = query.paged(session, statement.order_by(model.id), page)
    return list(found), total


def provider_by_uuid(
    session: Session, uuid: str, parameter: str = "id"
) -> models.PhysicalNetworkServiceProvider:
    model = models.PhysicalNetworkServiceProvider
    found = session.scalars(
        sa.select(model).where(model.uuid == uuid, model.removed.is_(None))
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(
            f"Unable to find network service provider by {parameter} {uuid}"
        )
    return found


def set_provider_state(
    session: Session, row: models.PhysicalNetworkServiceProvider, state: str
) -> None:
    """Enabled, Disabled or Shutdown, as updateNetworkServiceProvider allows."""
    row.state = _choice(state, ("Enabled", "Disabled", "Shutdown"), "state")
    session.flush()


def services_of(row: models.PhysicalNetworkServiceProvider) -> list[str]:
    """The services the provider row says it may provide, in CloudStack's order."""
    return [s.value for s, column in services.COLUMN.items() if getattr(row, column)]
