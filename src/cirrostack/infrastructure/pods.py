"""Pods (``host_pod_ref``): create, update, delete, find and list.

Called by the pod API commands inside their transaction. Rules (CloudStack's): a pod name is
unique within its zone; the gateway, start and end IP lie in the network the gateway and netmask
describe, the gateway outside the range; a pod's network may not overlap another pod's of the
zone nor the zone's guest CIDR; a pod with clusters or hosts cannot be deleted, and its range
cannot shrink past a host's address. The range is kept as ``description`` ("start-end").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import base, query, unique
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import addresses, rows


@dataclass(frozen=True)
class NewPod:
    """createPod's values, as given (validated by ``create``)."""

    name: str
    gateway: str
    netmask: str
    start_ip: str
    end_ip: str | None = None
    allocation_state: str | None = None


@dataclass(frozen=True)
class PodChanges:
    """updatePod's values; None leaves a field alone."""

    name: str | None = None
    gateway: str | None = None
    netmask: str | None = None
    start_ip: str | None = None
    end_ip: str | None = None
    allocation_state: str | None = None


def create(session: Session, zone: models.DataCenter, new: NewPod) -> models.HostPod:
    """Insert a pod into ``zone``; raises InvalidParameterValue for a bad or duplicate value."""
    span = addresses.PodRange.of(new.gateway, new.netmask, new.start_ip, new.end_ip)
    _check_network(session, zone, span.network, None)
    name = rows.require_name(new.name, "pod")
    pod = models.HostPod(
        name=name,
        data_center_id=zone.id,
        allocation_state=rows.AllocationState.Enabled.value,
    )
    _set_range(pod, span)
    if new.allocation_state is not None:
        pod.allocation_state = rows.allocation_state(new.allocation_state).value
    with unique.refusing(session, NAME_KEY, _name_taken(name, zone)):
        session.add(pod)
    return pod


def update(session: Session, pod: models.HostPod, changes: PodChanges) -> models.HostPod:
    """Apply ``changes``; raises InvalidParameterValue, or ResourceInUse when the new range
    would leave a host's address outside it."""
    zone = session.get_one(models.DataCenter, pod.data_center_id)
    if changes.name is not None and changes.name.strip() != pod.name:
        name = rows.require_name(changes.name, "pod")
        with unique.refusing(session, NAME_KEY, _name_taken(name, zone)):
            pod.name = name
    if _range_changes(changes):
        span = _changed_range(ip_range(pod), changes)
        _check_network(session, zone, span.network, pod.id)
        _check_hosts_inside(session, pod, span)
        _set_range(pod, span)
    if changes.allocation_state is not None:
        pod.allocation_state = rows.allocation_state(changes.allocation_state).value
    session.flush()
    return pod


def delete(session: Session, pod: models.HostPod) -> None:
    """Soft-delete an empty pod; raises ResourceInUse naming its clusters or hosts."""
    for model, what in ((models.Cluster, "clusters"), (models.Host, "hosts")):
        names = rows.names_of_live(session, model, model.pod_id == pod.id)
        if names:
            raise errors.ResourceInUse(
                f"The pod {pod.name} is not deletable because it has {what}: {', '.join(names)}"
            )
    rows.retire(pod, base.utcnow())
    session.flush()


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.HostPod:
    """The live pod with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    return rows.live_by_uuid(session, models.HostPod, uuid, "pod", parameter)


def ip_range(pod: models.HostPod) -> addresses.PodRange:
    """The pod's network, gateway and host address range."""
    return addresses.range_of(pod.cidr_address, pod.cidr_size, pod.gateway, pod.description)


@dataclass(frozen=True)
class PodFilter:
    id: int | None = None
    name: str | None = None
    zone_id: int | None = None
    allocation_state: str | None = None
    keyword: str | None = None


def search(
    session: Session, wanted: PodFilter, page: query.Page
) -> tuple[Sequence[models.HostPod], int]:
    """Live pods matching ``wanted``: one page and the total."""
    pod = models.HostPod
    statement = sa.select(pod).where(pod.removed.is_(None))
    statement = statement.where(
        *query.equal_to_given(
            (pod.id, wanted.id),
            (pod.data_center_id, wanted.zone_id),
            (pod.allocation_state, wanted.allocation_state),
        ),
        *query.named_as_given((pod.name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(pod.name, wanted.keyword))
    found, total = query.paged(session, statement.order_by(pod.id), page)
    return list(found), total


def _set_range(pod: models.HostPod, span: addresses.PodRange) -> None:
    pod.gateway = str(span.gateway)
    pod.cidr_address = str(span.network.network_address)
    pod.cidr_size = span.network.prefixlen
    pod.description = span.description


def _range_changes(changes: PodChanges) -> bool:
    wanted = (changes.gateway, changes.netmask, changes.start_ip, changes.end_ip)
    return any(value is not None for value in wanted)


def _changed_range(current: addresses.PodRange, changes: PodChanges) -> addresses.PodRange:
    return addresses.PodRange.of(
        changes.gateway or str(current.gateway),
        changes.netmask or str(current.network.netmask),
        changes.start_ip or str(current.start),
        changes.end_ip or str(current.end),
    )


def _check_network(
    session: Session, zone: models.DataCenter, net: ipaddress.IPv4Network, pod_id: int | None
) -> None:
    others = session.scalars(
        sa.select(models.HostPod).where(
            models.HostPod.data_center_id == zone.id,
            models.HostPod.removed.is_(None),
            models.HostPod.id != (pod_id or 0),
        )
    )
    for other in others:
        theirs = ipaddress.IPv4Network(f"{other.cidr_address}/{other.cidr_size}", strict=False)
        if net.overlaps(theirs):
            raise errors.InvalidParameterValue(
                f"The pod network {net} overlaps the network {theirs} of pod {other.name}"
            )
    guest = zone.guest_network_cidr
    if guest and net.overlaps(ipaddress.IPv4Network(guest, strict=False)):
        raise errors.InvalidParameterValue(
            f"The pod network {net} overlaps the guest CIDR {guest} of zone {zone.name}"
        )


def _check_hosts_inside(session: Session, pod: models.HostPod, span: addresses.PodRange) -> None:
    """Hosts keep their addresses: one given from the range stays in it, any stays in the net."""
    current = ip_range(pod)
    outside = [
        f"{name} ({address})"
        for name, address in session.execute(
            sa.select(models.Host.name, models.Host.private_ip_address).where(
                models.Host.pod_id == pod.id, models.Host.removed.is_(None)
            )
        )
        if (current.contains(address) and not span.contains(address))
        or not span.in_network(address)
    ]
    if outside:
        raise errors.ResourceInUse(
            f"The new IP range {span.description} of pod {pod.name} leaves out the addresses "
            f"of hosts {', '.join(outside)}"
        )


#: The unique keys over pod names of a zone: the live, case-insensitive one (migration 0004),
#: and CloudStack's (name, data_center_id), which MariaDB's collation makes case-insensitive.
NAME_KEY = ("uq_host_pod_ref_data_center_id_live_name", "uq_host_pod_ref_name_data_center_id")


def _name_taken(name: str, zone: models.DataCenter) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"A pod with name {name} already exists in zone {zone.name}"
    )
