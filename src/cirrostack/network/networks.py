"""Guest networks: create, find, list, update and delete, with CloudStack's design rules.

How each guest type is designed (the guru CloudStack would choose, ``guru_name``):

- Shared (DirectNetworkGuru): broadcast type Vlan, URI ``vlan://<id>`` (or
  ``vlan://untagged``), state Setup (a given broadcast URI counts as implemented); gateway,
  netmask, startip and endip create its first IP range (``ranges``); ACL Domain by default.
- Isolated (ExternalGuestNetworkGuru): CIDR from gateway/netmask or the zone's guest CIDR,
  gateway its first address, state Allocated with no broadcast URI (a VLAN comes at
  implement), unless the offering specifies the VLAN: then state Setup with it; ACL Account.
- L2 (ExternalGuestNetworkGuru): no CIDR and no addresses; the VLAN as for Isolated.

A network lives on a physical network of its zone carrying Guest traffic, which it locks while
created so that deletePhysicalNetwork cannot remove it underneath.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.accounts import scope as list_scope
from cirrostack.db import base, query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import network as models
from cirrostack.db.models import physical_network as physical_models
from cirrostack.infrastructure import addresses, rows
from cirrostack.network import implement, ipv4, physical, ranges, vlans
from cirrostack.states import gate
from cirrostack.states.machines import network as machine


class GuestType(enum.StrEnum):
    Shared = "Shared"
    Isolated = "Isolated"
    L2 = "L2"


class AclType(enum.StrEnum):
    Account = "Account"
    Domain = "Domain"


DIRECT_GURU = "DirectNetworkGuru"
GUEST_GURU = "ExternalGuestNetworkGuru"


def guest_type(text: str) -> GuestType:
    for kind in GuestType:
        if kind.value.lower() == text.strip().lower():
            return kind
    raise errors.InvalidParameterValue(
        f"Invalid guestiptype {text}: it must be Shared, Isolated or L2"
    )


def acl_type(text: str) -> AclType:
    for kind in AclType:
        if kind.value.lower() == text.strip().lower():
            return kind
    raise errors.InvalidParameterValue(f"Invalid acltype {text}: it must be Account or Domain")


@dataclass(frozen=True)
class Owner:
    """Who a new network belongs to: an account (ACL Account) or a domain (ACL Domain)."""

    account: account_models.Account
    domain: account_models.Domain
    acl: AclType
    subdomain_access: bool | None = None


@dataclass(frozen=True)
class NewNetwork:
    """createNetwork's values."""

    name: str
    display_text: str | None
    offering: models.NetworkOffering
    zone: infrastructure.DataCenter
    owner: Owner
    physical_network: physical_models.PhysicalNetwork | None = None
    vlan: str | None = None
    gateway: str | None = None
    netmask: str | None = None
    start_ip: str | None = None
    end_ip: str | None = None
    network_domain: str | None = None


def create(session: Session, caller: access.Caller, new: NewNetwork) -> models.Network:
    """Design and insert a guest network (and its first range); the caller commits."""
    offering = _usable_offering(caller, new.offering)
    kind = guest_type(offering.guest_type or "")
    name = rows.require_name(new.name, "network")
    carrier = physical.lock(session, new.physical_network or _guest_carrier(session, new.zone))
    if carrier.data_center_id != new.zone.id:
        raise errors.InvalidParameterValue(
            f"Physical network {carrier.uuid} is not in zone {new.zone.uuid}"
        )
    uri = _broadcast_uri(offering, new.vlan, caller)
    network = models.Network(
        name=name,
        display_text=new.display_text or name,
        traffic_type="Guest",
        broadcast_domain_type="Vlan",
        broadcast_uri=uri,
        mode="Dhcp",
        network_offering_id=offering.id,
        physical_network_id=carrier.id,
        data_center_id=new.zone.id,
        guru_name=DIRECT_GURU if kind is GuestType.Shared else GUEST_GURU,
        state=(machine.NetworkState.Setup if uri else machine.NetworkState.Allocated).value,
        account_id=new.owner.account.id,
        domain_id=new.owner.domain.id,
        acl_type=new.owner.acl.value,
        guest_type=kind.value,
        network_domain=new.network_domain,
        specify_ip_ranges=offering.specify_ip_ranges,
        dns1=new.zone.dns1,
        dns2=new.zone.dns2,
    )
    first_range = _addressing(network, kind, offering, new)
    session.add(network)
    session.flush()
    network.related = network.id
    session.add(models.OpNetwork(id=network.id))
    if new.owner.acl is AclType.Domain:
        session.add(
            models.DomainNetworkRef(
                domain_id=new.owner.domain.id,
                network_id=network.id,
                subdomain_access=new.owner.subdomain_access,
            )
        )
    session.flush()
    if first_range is not None:
        ranges.add(session, network, first_range, uri)
    return network


def _usable_offering(
    caller: access.Caller, offering: models.NetworkOffering
) -> models.NetworkOffering:
    if offering.system_only or offering.traffic_type != "Guest" or offering.guest_type is None:
        raise errors.InvalidParameterValue(
            f"Network offering {offering.uuid} is a system offering: "
            "it cannot create guest networks"
        )
    if offering.state != "Enabled":
        raise errors.InvalidParameterValue(
            f"Network offering with specified id {offering.uuid} is not in Enabled state"
        )
    if not caller.is_root_admin and (
        offering.guest_type == GuestType.Shared.value or offering.specify_vlan
    ):
        raise errors.PermissionDenied(
            "Only a root admin may create a network of an offering with specifyVlan or of "
            "guest type Shared"
        )
    return offering


def _guest_carrier(
    session: Session, zone: infrastructure.DataCenter
) -> physical_models.PhysicalNetwork:
    found = physical.carrying(session, zone.id, physical.TrafficType.Guest)
    if found is None:
        raise errors.InvalidParameterValue(
            f"Unable to find a physical network with Guest traffic in zone {zone.uuid}: "
            "createPhysicalNetwork and addTrafficType traffictype=Guest first"
        )
    return found


def _broadcast_uri(
    offering: models.NetworkOffering, vlan: str | None, caller: access.Caller
) -> str | None:
    if vlan is None:
        if offering.specify_vlan:
            raise errors.InvalidParameterValue(
                f"vlan is required: network offering {offering.name} has specifyvlan=true"
            )
        return None
    if not offering.specify_vlan:
        raise errors.InvalidParameterValue(
            f"vlan can only be given with an offering that has specifyvlan=true "
            f"({offering.name} has not)"
        )
    return vlans.broadcast_uri(vlan)


def _addressing(
    network: models.Network,
    kind: GuestType,
    offering: models.NetworkOffering,
    new: NewNetwork,
) -> ipv4.Range | None:
    """Set the CIDR and gateway; the first IP range to create, if any."""
    given = (new.gateway, new.netmask)
    if kind is GuestType.L2:
        if any((*given, new.start_ip, new.end_ip)):
            raise errors.InvalidParameterValue("An L2 network has no gateway, netmask or IP range")
        network.mode = None
        return None
    if (new.gateway is None) != (new.netmask is None):
        raise errors.InvalidParameterValue("gateway and netmask must be given together")
    if offering.specify_ip_ranges:
        if new.start_ip is None:
            if new.gateway is not None or new.end_ip is not None:
                raise errors.InvalidParameterValue("startip is required with gateway and netmask")
            return None
        if new.gateway is None or new.netmask is None:
            raise errors.InvalidParameterValue("gateway and netmask are required with startip")
        found = ipv4.range_of(new.gateway, new.netmask, new.start_ip, new.end_ip)
        network.gateway, network.cidr = str(found.gateway), found.cidr
        return found
    if new.start_ip is not None or new.end_ip is not None:
        raise errors.InvalidParameterValue(
            "startip and endip need an offering with specifyipranges=true "
            f"({offering.name} has not)"
        )
    if new.gateway is not None and new.netmask is not None:
        net = addresses.network(new.gateway, new.netmask)
        gateway = addresses.ipv4(new.gateway, "gateway")
    else:
        if not new.zone.guest_network_cidr:
            raise errors.InvalidParameterValue(
                f"Can't design network {new.name}; guest CIDR is not configured per zone "
                f"{new.zone.uuid}"
            )
        net = addresses.cidr(new.zone.guest_network_cidr, "guestcidraddress")
        gateway = next(net.hosts())
    network.gateway, network.cidr = str(gateway), str(net)
    return None


# --- lookups ---------------------------------------------------------------------------------


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.Network:
    """The live network with ``uuid``; InvalidParameterValue if none."""
    return rows.live_by_uuid(session, models.Network, uuid, "network", parameter)


def unknown(uuid: str, parameter: str = "id") -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(f"Unable to find network by {parameter} {uuid}")


def reached(
    session: Session, caller: access.Caller, uuid: str, parameter: str = "id"
) -> models.Network:
    """The live network ``uuid`` names if the caller may use it; else like an unknown id."""
    found = by_uuid(session, uuid, parameter)
    if not usable_by(session, caller, found):
        raise unknown(uuid, parameter)
    return found


def usable_by(session: Session, caller: access.Caller, network: models.Network) -> bool:
    """Whether the caller may see and use ``network``: CloudStack's network access rules."""
    if caller.is_root_admin:
        return True
    if network.acl_type == AclType.Domain.value:
        return bool(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(models.DomainNetworkRef)
                .where(models.DomainNetworkRef.network_id == network.id, _domain_reaches(caller))
            )
        )
    owner = session.get_one(account_models.Account, network.account_id)
    return access.reaches_account(
        caller, owner, session.get_one(account_models.Domain, owner.domain_id)
    )


def ancestor_paths(path: str) -> list[str]:
    """The paths of the domain at ``path`` and of every domain above it."""
    parts = [part for part in path.split("/") if part]
    return ["/"] + ["/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


def open_to_domain(domain_id: int, domain_path: str) -> sa.ColumnElement[bool]:
    """On ``domain_network_ref``: the network's domain is this one, or one above it that opens
    its networks to subdomains."""
    ref = models.DomainNetworkRef
    above = sa.select(account_models.Domain.id).where(
        account_models.Domain.path.in_(ancestor_paths(domain_path))
    )
    return sa.or_(
        ref.domain_id == domain_id,
        sa.and_(ref.domain_id.in_(above), ref.subdomain_access.is_not(False)),
    )


def _domain_reaches(caller: access.Caller) -> sa.ColumnElement[bool]:
    """``open_to_domain`` for the caller's domain, and for a domain admin its subtree too."""
    reaches = open_to_domain(caller.domain_id, caller.domain_path)
    if not caller.is_domain_admin:
        return reaches
    below = sa.select(account_models.Domain.id).where(
        query.under_path(account_models.Domain.path, caller.domain_path)
    )
    return sa.or_(reaches, models.DomainNetworkRef.domain_id.in_(below))


# --- listing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """What listNetworks asked for."""

    uuid: str | None = None
    name: str | None = None
    keyword: str | None = None
    zone_id: int | None = None
    guest_type: str | None = None
    traffic_type: str | None = None
    physical_network_id: int | None = None
    offering_id: int | None = None
    acl_type: str | None = None
    is_system: bool | None = None
    can_use_for_deploy: bool | None = None
    owners: list_scope.Wanted = field(default_factory=list_scope.Wanted)


def search(
    session: Session, caller: access.Caller, wanted: Filter, page: query.Page
) -> tuple[Sequence[models.Network], int]:
    """Live networks the caller may use that match ``wanted``: its account's (as
    ``scope.condition`` allows) and the Domain networks open to it."""
    net = models.Network
    statement = sa.select(net).where(net.removed.is_(None), _visible(session, caller, wanted))
    statement = statement.where(
        *query.equal_to_given(
            (net.uuid, wanted.uuid),
            (net.data_center_id, wanted.zone_id),
            (net.physical_network_id, wanted.physical_network_id),
            (net.network_offering_id, wanted.offering_id),
        ),
        *query.named_as_given(
            (net.name, wanted.name),
            (net.guest_type, wanted.guest_type),
            (net.traffic_type, wanted.traffic_type),
            (net.acl_type, wanted.acl_type),
        ),
    )
    if wanted.keyword:
        statement = statement.where(query.keyword_in(wanted.keyword, net.name, net.display_text))
    if wanted.is_system is not None:
        system = sa.select(models.NetworkOffering.id).where(models.NetworkOffering.system_only)
        statement = statement.where(
            net.network_offering_id.in_(system)
            if wanted.is_system
            else net.network_offering_id.not_in(system)
        )
    if wanted.can_use_for_deploy is not None:
        usable = net.state.not_in([machine.NetworkState.Destroy.value])
        statement = statement.where(usable if wanted.can_use_for_deploy else sa.not_(usable))
    found, total = query.paged(session, statement.order_by(net.id), page)
    return list(found), total


def _visible(session: Session, caller: access.Caller, wanted: Filter) -> sa.ColumnElement[bool]:
    net = models.Network
    owners = wanted.owners
    if (
        caller.is_root_admin
        and owners.listall
        and owners.account_name is None
        and owners.domain is None
    ):
        return sa.true()
    by_account = sa.and_(
        net.acl_type == AclType.Account.value,
        list_scope.condition(session, caller, owners, net.account_id),
    )
    if owners.account_name is not None:
        return by_account
    refs = sa.select(models.DomainNetworkRef.network_id)
    if owners.domain is not None:
        access.check_domain(caller, owners.domain)
        refs = refs.where(models.DomainNetworkRef.domain_id == owners.domain.id)
    elif not caller.is_root_admin:
        refs = refs.where(_domain_reaches(caller))
    by_domain = sa.and_(net.acl_type == AclType.Domain.value, net.id.in_(refs))
    return sa.or_(by_account, by_domain)


# --- changes ---------------------------------------------------------------------------------


def update(
    session: Session, network: models.Network, name: str | None, display_text: str | None
) -> None:
    if name is not None:
        network.name = rows.require_name(name, "network")
    if display_text is not None:
        network.display_text = display_text
    session.flush()


def lock(session: Session, network: models.Network) -> models.Network:
    """Lock the network row and re-read it: NIC allocation, range changes and the delete of
    one network serialise on it. Refuses a network removed meanwhile."""
    locked = session.scalars(
        sa.select(models.Network)
        .where(models.Network.id == network.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if locked.removed is not None:
        raise unknown(network.uuid)
    return locked


def delete(session: Session, network: models.Network, actor: gate.ActorLike) -> None:
    """Destroy a network without NICs: its ranges and addresses go, the row is removed."""
    network = lock(session, network)
    # A locking read: MariaDB's plain reads would see the transaction's first snapshot and
    # miss a NIC committed while this waited for the lock.
    nics = len(
        session.scalars(
            sa.select(models.Nic.id)
            .where(models.Nic.network_id == network.id, models.Nic.removed.is_(None))
            .with_for_update(read=True)
        ).all()
    )
    if nics:
        raise errors.ResourceInUse(
            f"Unable to delete network {network.uuid}: it has {nics} NIC(s); remove the VMs first"
        )
    implement.shutdown(session, network, actor)
    if network.state != machine.NetworkState.Destroy.value:
        gate.transition(session, network, machine.NetworkEvent.DestroyNetwork, actor=actor)
    ranges.remove_all(session, network)
    network.removed = base.utcnow()
    session.flush()
