"""NICs of VMs on guest networks: allocation with a MAC and an address, release, lookups.

Called by the VM orchestration (deployVirtualMachine, destroy/expunge) inside its transaction.
``allocate`` inserts the NIC Allocated with its MAC and IPv4 address chosen at once (reservation
strategy Create, as DirectNetworkGuru does); the address comes from:

- Shared networks: a Free ``user_ip_address`` row of the network's ranges, claimed by ONE
  conditional UPDATE (``state = 'Free'``) checked by its rowcount; a lost race tries the next;
- Isolated networks: the lowest address of the CIDR (not the gateway) no live NIC holds, read
  under the network row's lock, with the unique key over a network's live addresses behind it;
- L2 networks: none.

A requested address outside the network or taken is refused (InvalidParameterValue); no
address left is InsufficientCapacity ("Insufficient address capacity").
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import base, unique
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import network as models
from cirrostack.network import ipv4, macs, networks, ranges

#: Free candidates read per round of the claim loop.
BATCH = 16
STRATEGY = "Create"
IP_KEY = "uq_nics_network_id_live_ip4"
MAC_KEY = "uq_nics_network_id_live_mac"


def allocate(
    session: Session,
    *,
    vm_id: int,
    vm_type: str,
    network: models.Network,
    device_id: int,
    default: bool,
    requested_ip: str | None = None,
) -> models.Nic:
    """Insert the NIC of VM ``vm_id`` on ``network`` (and the vm_network_map row).

    The network row is locked first: allocations on one network take turns, and deleteNetwork
    (which locks it too) either sees the new NIC or has removed the network, which is then
    refused here as unknown.
    """
    network = networks.lock(session, network)
    if network.state == "Destroy":
        raise networks.unknown(network.uuid, "networkid")
    mac = macs.next_mac(session, network)
    kind = network.guest_type
    if kind == networks.GuestType.L2.value:
        if requested_ip is not None:
            raise errors.InvalidParameterValue(
                f"An L2 network has no addresses: ipaddress {requested_ip} cannot be given"
            )
        address = None
    elif kind == networks.GuestType.Shared.value or network.specify_ip_ranges:
        address = _claim_range_address(session, network, requested_ip)
    else:
        address = _free_cidr_address(session, network, requested_ip)
    nic = models.Nic(
        instance_id=vm_id,
        network_id=network.id,
        mac_address=mac,
        ip4_address=address,
        netmask=ipv4.netmask_of(network.cidr) if address else None,
        gateway=network.gateway if address else None,
        ip_type="Ip4" if address else None,
        broadcast_uri=network.broadcast_uri,
        isolation_uri=network.broadcast_uri,
        mode=network.mode,
        state="Allocated",
        strategy=STRATEGY,
        reserver_name=network.guru_name,
        device_id=device_id,
        default_nic=default,
        vm_type=vm_type,
        update_time=base.utcnow(),
    )
    refusal = errors.InsufficientCapacity(
        f"Insufficient address capacity: address {address} or MAC {mac} is already used on "
        f"network {network.uuid}"
    )
    with unique.refusing(session, (IP_KEY, MAC_KEY), refusal):
        session.add(nic)
        session.flush()
    _map(session, vm_id, network.id)
    return nic


def _map(session: Session, vm_id: int, network_id: int) -> None:
    present = session.scalar(
        sa.select(models.VmNetworkMap.id).where(
            models.VmNetworkMap.vm_id == vm_id, models.VmNetworkMap.network_id == network_id
        )
    )
    if present is None:
        session.add(models.VmNetworkMap(vm_id=vm_id, network_id=network_id))
        session.flush()


def _out_of_range(network: models.Network, requested: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"Invalid ipaddress {requested}: it is not a free address of network {network.uuid}'s "
        f"IP ranges ({network.cidr})"
    )


def _exhausted(network: models.Network) -> errors.InsufficientCapacity:
    return errors.InsufficientCapacity(
        f"Insufficient address capacity: no free address left in network {network.uuid} "
        f"({network.name})"
    )


def _claim_range_address(session: Session, network: models.Network, requested: str | None) -> str:
    """Claim a Free address row of the network's ranges by a conditional UPDATE."""
    addr = models.UserIpAddress
    free = sa.and_(
        addr.source_network_id == network.id, addr.state == ranges.AddressState.Free.value
    )
    if requested is not None:
        if _claim(session, network, free, addr.public_ip_address == requested.strip()):
            return requested.strip()
        raise _out_of_range(network, requested)
    tried: list[int] = []
    while True:
        statement = sa.select(addr.id).where(free).order_by(addr.id).limit(BATCH)
        if tried:
            statement = statement.where(addr.id.not_in(tried))
        candidates = list(session.scalars(statement))
        if not candidates:
            raise _exhausted(network)
        for candidate in candidates:
            if _claim(session, network, free, addr.id == candidate):
                return str(
                    session.scalar(sa.select(addr.public_ip_address).where(addr.id == candidate))
                )
            tried.append(candidate)


def _claim(
    session: Session,
    network: models.Network,
    free: sa.ColumnElement[bool],
    which: sa.ColumnElement[bool],
) -> bool:
    addr = models.UserIpAddress
    result = session.execute(
        sa.update(addr)
        .where(free, which)
        .values(
            state=ranges.AddressState.Allocated.value,
            allocated=base.utcnow(),
            account_id=network.account_id,
            domain_id=network.domain_id,
            network_id=network.id,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _free_cidr_address(session: Session, network: models.Network, requested: str | None) -> str:
    """The lowest address of the CIDR no live NIC holds, read (with a locking read: the latest
    committed rows on every backend) under the network's lock, which ``allocate`` holds."""
    if network.cidr is None:
        raise _exhausted(network)
    used = set(
        session.scalars(
            sa.select(models.Nic.ip4_address)
            .where(
                models.Nic.network_id == network.id,
                models.Nic.removed.is_(None),
                models.Nic.ip4_address.is_not(None),
            )
            .with_for_update(read=True)
        )
    )
    used.add(network.gateway)
    if requested is not None:
        wanted = requested.strip()
        if not ipv4.inside(wanted, network.cidr) or wanted in used:
            raise _out_of_range(network, requested)
        return wanted
    for address in ipv4.hosts(network.cidr):
        if str(address) not in used:
            return str(address)
    raise _exhausted(network)


def release(session: Session, nic: models.Nic) -> None:
    """Free the NIC's address (a Shared network's row goes back to Free) and remove the NIC,
    under the network row's lock as allocations are."""
    networks.lock(session, session.get_one(models.Network, nic.network_id))
    addr = models.UserIpAddress
    if nic.ip4_address is not None:
        session.execute(
            sa.update(addr)
            .where(
                addr.source_network_id == nic.network_id,
                addr.public_ip_address == nic.ip4_address,
                addr.state == ranges.AddressState.Allocated.value,
            )
            .values(
                state=ranges.AddressState.Free.value,
                allocated=None,
                account_id=None,
                domain_id=None,
                network_id=None,
            )
            .execution_options(synchronize_session=False)
        )
    nic.removed = base.utcnow()
    nic.state = "Deallocating"
    session.flush()
    still = session.scalar(
        sa.select(sa.func.count())
        .select_from(models.Nic)
        .where(
            models.Nic.instance_id == nic.instance_id,
            models.Nic.network_id == nic.network_id,
            models.Nic.removed.is_(None),
        )
    )
    if not still:
        session.execute(
            sa.delete(models.VmNetworkMap).where(
                models.VmNetworkMap.vm_id == nic.instance_id,
                models.VmNetworkMap.network_id == nic.network_id,
            )
        )


def for_vms(session: Session, vm_ids: Sequence[int]) -> dict[int, list[models.Nic]]:
    """Each VM's live NICs, by device id, in one query (VMs without NICs are absent)."""
    found: dict[int, list[models.Nic]] = {}
    if not vm_ids:
        return found
    for nic in session.scalars(
        sa.select(models.Nic)
        .where(models.Nic.instance_id.in_(set(vm_ids)), models.Nic.removed.is_(None))
        .order_by(models.Nic.instance_id, models.Nic.device_id, models.Nic.id)
    ):
        found.setdefault(nic.instance_id or 0, []).append(nic)
    return found


def default_network(session: Session, zone_id: int, account_id: int) -> models.Network | None:
    """The network a VM of ``account_id`` gets when deployVirtualMachine names none.

    CloudStack's rule: in a Basic zone, the zone's shared guest network; in an Advanced zone,
    the account's own guest network when it has exactly one. cirrostack creates no isolated
    network on the fly (there is no router to serve it), so an account without networks of
    its own gets instead the first Domain-wide shared network of the zone open to its domain.
    None when there is nothing to choose or the choice is ambiguous (several own networks).
    """
    zone = session.get_one(infrastructure.DataCenter, zone_id)
    live = sa.and_(
        models.Network.data_center_id == zone_id,
        models.Network.removed.is_(None),
        models.Network.traffic_type == "Guest",
        models.Network.state != "Destroy",
    )
    if zone.networktype != "Basic":
        own = session.scalars(
            sa.select(models.Network)
            .where(live, models.Network.account_id == account_id,
                   models.Network.acl_type == networks.AclType.Account.value)
            .order_by(models.Network.id)
            .limit(2)
        ).all()  # fmt: skip
        if len(own) > 1:
            return None
        if own:
            return own[0]
    return _open_shared(session, live, account_id)


def _open_shared(
    session: Session, live: sa.ColumnElement[bool], account_id: int
) -> models.Network | None:
    account = session.get_one(account_models.Account, account_id)
    domain = session.get_one(account_models.Domain, account.domain_id)
    refs = sa.select(models.DomainNetworkRef.network_id).where(
        networks.open_to_domain(domain.id, domain.path)
    )
    return session.scalars(
        sa.select(models.Network)
        .where(
            live,
            models.Network.guest_type == networks.GuestType.Shared.value,
            models.Network.acl_type == networks.AclType.Domain.value,
            models.Network.id.in_(refs),
        )
        .order_by(models.Network.id)
    ).first()
