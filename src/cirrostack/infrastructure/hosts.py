"""Hosts: add (and connect), update, delete, find and list (maintenance: ``maintenance``).

Called by the host API commands inside their transaction. A new host row is inserted
Creating/Creating; the startup exchange (``agents.connect``) brings its status to Up, then
InternalCreated makes it Enabled (or Disable, when asked, Disabled). Only ``Simulator`` hosts
can be added today: their URL names the (simulated) machine and may carry the simulated hardware
(``http://sim-1?cpunumber=8&memory=17179869184``, see ``cirrostack.agent.backends.simulator``).
As CloudStack's simulator (MockAgentManagerImpl) names them, a simulated host is called
``SimulatedAgent.<guid>``, so any number of hosts can sit behind one URL host
(``http://sim/c0/h0``, ``http://sim/c0/h1``, as simulator zone configs have them);
the knobs are stored as host details, so the host can be rebuilt after a restart. A simulated
host gets the first free address of its pod's range unless its URL names an IPv4 address.

Rules (CloudStack's where it has them): a renamed host's name is unique among the live hosts of
a zone, regardless of case, and so is a host's address (the keys of migration 0008 decide a
race: the loser of a rename, or of an address its URL names, answers 431; an address picked
from the pod's range is picked again, so parallel adds in one pod all succeed);
the cluster must be in the pod and of the host's hypervisor; deleting needs Maintenance or
Disabled (or ``forced``) and no VM on the host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import __version__, errors, plugins
from cirrostack.accounts import vault
from cirrostack.db import base, query, unique
from cirrostack.db.models import compute, guest_os
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import agents, capacity, clusters, details, hypervisors, pods, rows
from cirrostack.states import gate, machines
from cirrostack.transport import errors as transport_errors

ROUTING = "Routing"
#: The host detail holding the OS category preferred for VMs on the host.
OS_CATEGORY_DETAIL = "guest.os.category.id"
_RE = machines.ResourceStateEvent


@dataclass(frozen=True)
class NewHost:
    """addHost's values, as given (validated by ``add``)."""

    url: str
    hypervisor: str
    cluster_id: str | None = None
    cluster_name: str | None = None
    host_tags: Sequence[str] = ()
    allocation_state: str | None = None
    username: str | None = None
    #: The agent's secret when ``url`` names an agent process (``http[s]://H:P``).
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HostChanges:
    """updateHost's values; None leaves a field alone."""

    name: str | None = None
    allocation_state: str | None = None
    host_tags: Sequence[str] | None = None
    os_category_id: str | None = None


def add(
    session: Session,
    connections: agents.Agents,
    zone: models.DataCenter,
    pod: models.HostPod,
    new: NewHost,
) -> models.Host:
    """Insert, connect and enable a host in one session; returns it Up.

    The API runs the same three steps in three transactions so that no transaction is open
    while the agent is waited on: ``insert``, ``agents.start`` (no database), ``finish`` (or
    ``discard`` when the startup failed). Raises as those do.
    """
    host = insert(session, zone, pod, new)
    try:
        startup = start(connections, agents.target_of(session, host))
    except errors.ResourceUnavailable:
        assert host.guid is not None
        connections.forget(host.guid)
        raise
    return finish(session, connections, host, startup, new)


def insert(
    session: Session,
    zone: models.DataCenter,
    pod: models.HostPod,
    new: NewHost,
    backends: Mapping[str, plugins.Backend] | None = None,
) -> models.Host:
    """Validate ``new`` and insert its host Creating/Creating with its details and tags.

    The url is read by the backend of the cluster's hypervisor (``backends`` by lower-case
    hypervisor, default ``plugins.resolved()``).

    Raises InvalidParameterValue for a bad value, ResourceUnavailable when the hypervisor has
    no agent yet or the pod has no free address.
    """
    kind = _addable(new.hypervisor)
    if new.allocation_state is not None:
        _wants_disabled(new.allocation_state)  # refuse a bad value before anything is written
    if pod.data_center_id != zone.id:
        raise errors.InvalidParameterValue(f"Pod {pod.name} is not in zone {zone.name}")
    cluster = _cluster_for(session, pod, new, kind)
    parsed = _parse_url(new.url, _backend(backends, cluster.hypervisor_type or str(kind)))
    secret = _secret(new) if parsed.own_process else None
    host = _insert_at_free_address(
        session, zone, pod, cluster, new, parsed.machine, literal_only_in_pod=parsed.own_process
    )
    stored = dict(parsed.details)
    if secret is not None:
        stored[agents.SECRET_DETAIL] = vault.of(session).seal(secret, vault.HOST_SECRET)
    details.set_for_host(session, host.id, stored)
    details.set_tags(session, host.id, new.host_tags)
    return host


def start(connections: agents.Agents, target: agents.Target) -> agents.Startup:
    """The new host's startup exchange, with no database; raises ResourceUnavailable when
    the agent does not complete it (ready step included)."""
    try:
        startup = agents.start(connections, target)
        if startup.ready_failure is not None:
            raise startup.ready_failure
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(f"Unable to add the host {target.name}: {exc}") from exc
    return startup


def finish(
    session: Session,
    connections: agents.Agents,
    host: models.Host,
    startup: agents.Startup,
    new: NewHost,
) -> models.Host:
    """Record a new host's successful startup and enable it (or disable, when asked)."""
    agents.record_startup(session, connections, host, startup)
    gate.transition(session, host, _RE.InternalCreated)
    if new.allocation_state is not None and _wants_disabled(new.allocation_state):
        gate.transition(session, host, _RE.Disable)
    capacity.set_state(session, host)
    return host


def discard(session: Session, host_id: int) -> None:
    """Remove a host ``insert`` made whose startup failed (its details, tags and row)."""
    details.remove_all(session, host_id)
    session.execute(sa.delete(models.Host).where(models.Host.id == host_id))


def update(session: Session, host: models.Host, changes: HostChanges) -> models.Host:
    """Apply ``changes``; InvalidParameterValue for a bad value, NoTransition when the
    resource state does not allow Enable/Disable (in maintenance)."""
    if changes.name is not None and changes.name.strip() != host.name:
        zone = session.get_one(models.DataCenter, host.data_center_id)
        wanted = rows.require_name(changes.name, "host")
        with unique.refusing(session, NAME_KEY, _name_taken(wanted, zone)):
            host.name = wanted
    if changes.host_tags is not None:
        details.set_tags(session, host.id, changes.host_tags)
    if changes.os_category_id is not None:
        category = _os_category(session, changes.os_category_id)
        details.set_for_host(session, host.id, {OS_CATEGORY_DETAIL: str(category.id)})
    if changes.allocation_state is not None:
        event = _RE.Disable if _wants_disabled(changes.allocation_state) else _RE.Enable
        gate.transition(session, host, event)
        capacity.set_state(session, host)
    session.flush()
    return host


def delete(
    session: Session, connections: agents.Agents, host: models.Host, *, forced: bool = False
) -> None:
    """Remove the host: DeleteHost, Remove, capacity and details gone, agent forgotten.

    Raises ResourceInUse when VMs run on it, ResourceUnavailable when it is neither in
    Maintenance nor Disabled and ``forced`` is not set.
    """
    refuse_vms(session, host, "deleted")
    state = machines.HOST_RESOURCE_STATE.parse(host.resource_state)
    deletable = (machines.ResourceState.Maintenance, machines.ResourceState.Disabled)
    if forced and state is machines.ResourceState.Enabled:
        gate.transition(session, host, _RE.Disable)
    elif state not in deletable and not forced:
        raise errors.ResourceUnavailable(
            f"Host {host.name} cannot be deleted while it is {state}: put it into "
            "maintenance or disable it first, or delete it with forced=true"
        )
    gate.transition(session, host, _RE.DeleteHost)
    status = machines.HOST_STATUS.parse(host.status)
    if machines.HOST_STATUS.allows(status, machines.HostStatusEvent.Remove):
        gate.transition(session, host, machines.HostStatusEvent.Remove)
    capacity.remove(session, host)
    details.remove_all(session, host.id)
    host.removed = base.utcnow()
    session.flush()
    if host.guid is not None:
        connections.forget(host.guid)


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.Host:
    """The live host with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    return rows.live_by_uuid(session, models.Host, uuid, "host", parameter)


@dataclass(frozen=True)
class HostFilter:
    id: int | None = None
    name: str | None = None
    type: str | None = None
    zone_id: int | None = None
    pod_id: int | None = None
    cluster_id: int | None = None
    state: str | None = None
    resource_state: str | None = None
    hypervisor: str | None = None
    ha_host: bool | None = None
    keyword: str | None = None


def search(
    session: Session, wanted: HostFilter, page: query.Page
) -> tuple[Sequence[models.Host], int]:
    """Live hosts matching ``wanted``: one page and the total. Text filters ignore case."""
    host = models.Host
    statement = sa.select(host).where(host.removed.is_(None))
    exact: tuple[tuple[Any, object], ...] = (
        (host.id, wanted.id),
        (host.data_center_id, wanted.zone_id),
        (host.pod_id, wanted.pod_id),
        (host.cluster_id, wanted.cluster_id),
    )
    for column, value in exact:
        if value is not None:
            statement = statement.where(column == value)
    statement = statement.where(*query.named_as_given((host.name, wanted.name)))
    for text_column, text in (
        (host.type, wanted.type),
        (host.status, wanted.state),
        (host.resource_state, wanted.resource_state),
        (host.hypervisor_type, wanted.hypervisor),
    ):
        if text is not None:
            statement = statement.where(sa.func.lower(text_column) == text.lower())
    if wanted.ha_host:
        statement = statement.where(sa.false())  # no host is dedicated to HA
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(host.name, wanted.keyword))
    found, total = query.paged(session, statement.order_by(host.id), page)
    return list(found), total


def _addable(text: str) -> hypervisors.HypervisorType:
    kind = hypervisors.parse(text)
    if kind is not hypervisors.HypervisorType.Simulator:
        raise errors.ResourceUnavailable(
            f"Hosts of hypervisor {kind} need the cirrostack agent, which is not available "
            "yet; only Simulator hosts can be added"
        )
    return kind


def _cluster_for(
    session: Session, pod: models.HostPod, new: NewHost, kind: hypervisors.HypervisorType
) -> models.Cluster:
    """The cluster named by id or name; a new cluster when the name is unknown in the pod."""
    if new.cluster_id is not None:
        cluster = clusters.by_uuid(session, new.cluster_id, "clusterid")
        if cluster.pod_id != pod.id:
            raise errors.InvalidParameterValue(f"Cluster {cluster.name} is not in pod {pod.name}")
    elif new.cluster_name is not None:
        found = clusters.by_name(session, pod, new.cluster_name)
        cluster = found or clusters.create(
            session,
            pod,
            clusters.NewCluster(new.cluster_name, kind.value, clusters.ClusterType.CloudManaged),
        )
    else:
        raise errors.InvalidParameterValue("Either clusterid or clustername must be given")
    if cluster.hypervisor_type != kind.value:
        raise errors.InvalidParameterValue(
            f"Cluster {cluster.name} is a {cluster.hypervisor_type} cluster, not {kind}"
        )
    return cluster


#: The unique keys over live hosts of a zone (migration 0008).
NAME_KEY = "uq_host_data_center_id_live_name"
ADDRESS_KEY = "uq_host_data_center_id_live_address"

#: A simulated host's name is this and its guid, as CloudStack's simulator names them.
SIMULATED_NAME_PREFIX = "SimulatedAgent."


def _backend(backends: Mapping[str, plugins.Backend] | None, hypervisor: str) -> plugins.Backend:
    found = (plugins.resolved() if backends is None else backends).get(hypervisor.lower())
    if found is None:
        raise errors.ResourceUnavailable(f"No agent is available for hypervisor {hypervisor}")
    return found


def _secret(new: NewHost) -> str:
    """The agent secret addHost was given as the password; InvalidParameterValue without one."""
    if not new.password or not new.password.strip():
        raise errors.InvalidParameterValue(
            f"Invalid url {new.url}: an agent process needs its secret (DIR/agent.json) "
            "as the password"
        )
    return new.password.strip()


def _parse_url(url: str, backend: plugins.Backend) -> plugins.HostUrl:
    """What ``url`` says, by the backend of the host's hypervisor: the machine it names, the
    details to store (a simulator's knobs), and whether an agent process listens there."""
    try:
        return backend.parse_url(url)
    except ValueError as exc:
        raise errors.InvalidParameterValue(f"Invalid url {url}: {exc}") from None


def _insert_at_free_address(
    session: Session,
    zone: models.DataCenter,
    pod: models.HostPod,
    cluster: models.Cluster,
    new: NewHost,
    machine: str,
    *,
    literal_only_in_pod: bool = False,
) -> models.Host:
    """Insert the host at its address; the zone's live-address key decides a race.

    An address the URL names that another request took meanwhile is refused (431, as when it
    was taken before); an address picked from the pod's range is picked again without the
    one lost, so that parallel adds in one pod all succeed (MariaDB's snapshot may not show
    the winner's row: the lost addresses are remembered rather than read again).
    """
    lost: set[str] = set()
    while True:
        address = _address(session, pod, machine, lost, literal_only_in_pod=literal_only_in_pod)
        try:
            with unique.refusing(session, ADDRESS_KEY, _address_taken(address, pod)):
                return _insert(session, zone, pod, cluster, new, address)
        except errors.InvalidParameterValue:
            if address == machine:  # the URL named it
                raise
            lost.add(address)


def _address_taken(address: str, pod: models.HostPod) -> errors.InvalidParameterValue:
    span = pods.ip_range(pod)
    return errors.InvalidParameterValue(
        f"The address {address} is outside pod {pod.name}'s network {span.network} "
        "or taken by another host"
    )


def _address(
    session: Session,
    pod: models.HostPod,
    name: str,
    lost: set[str],
    *,
    literal_only_in_pod: bool = False,
) -> str:
    """The host's address: the URL's IPv4 address, else the first free one of the pod
    (neither used by a live host of the zone nor ``lost`` to a parallel add).

    With ``literal_only_in_pod`` (an agent process's url, often 127.0.0.1) an address outside
    the pod's network is where the agent listens, not the host's: the pod's first free one is
    taken instead."""
    span = pods.ip_range(pod)
    used = lost | set(
        session.scalars(
            sa.select(models.Host.private_ip_address).where(
                models.Host.data_center_id == pod.data_center_id, models.Host.removed.is_(None)
            )
        )
    )
    try:
        literal = ipaddress.IPv4Address(name)
        if literal_only_in_pod and (literal not in span.network or str(literal) in used):
            raise ValueError(name)
    except ValueError:
        free = span.first_free(used | {str(span.gateway)})
        if free is None:
            raise errors.ResourceUnavailable(
                f"Pod {pod.name} has no free address left in {span.description}"
            ) from None
        return free
    if literal not in span.network or str(literal) in used:
        raise _address_taken(str(literal), pod)
    return str(literal)


def _insert(
    session: Session,
    zone: models.DataCenter,
    pod: models.HostPod,
    cluster: models.Cluster,
    new: NewHost,
    address: str,
) -> models.Host:
    guid = base.new_uuid()
    host = models.Host(
        name=SIMULATED_NAME_PREFIX + guid,
        type=ROUTING,
        data_center_id=zone.id,
        pod_id=pod.id,
        cluster_id=cluster.id,
        hypervisor_type=cluster.hypervisor_type,
        private_ip_address=address,
        private_netmask=str(pods.ip_range(pod).network.netmask),
        guid=guid,
        url=new.url.strip(),
        resource="SimulatorResource",
        version=__version__,
    )
    session.add(host)
    session.flush()
    return host


def _name_taken(name: str, zone: models.DataCenter) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"A host with name {name} already exists in zone {zone.name}"
    )


def _wants_disabled(text: str) -> bool:
    """Enable/Disable (updateHost) or Enabled/Disabled (addHost) in any case."""
    value = text.strip().lower()
    if value in ("enable", "enabled"):
        return False
    if value in ("disable", "disabled"):
        return True
    raise errors.InvalidParameterValue(
        f"Invalid allocationstate {text}: it must be Enable or Disable"
    )


def _os_category(session: Session, uuid: str) -> guest_os.GuestOsCategory:
    category = session.scalars(
        sa.select(guest_os.GuestOsCategory).where(guest_os.GuestOsCategory.uuid == uuid)
    ).first()
    if category is None:
        raise errors.InvalidParameterValue(f"Unable to find OS category by oscategoryid {uuid}")
    return category


def refuse_vms(session: Session, host: models.Host, action: str) -> None:
    """Raise ResourceInUse when VMs run on ``host`` (deleting it, maintenance)."""
    vms = rows.names_of_live(session, compute.VmInstance, compute.VmInstance.host_id == host.id)
    if vms:
        raise errors.ResourceInUse(
            f"Host {host.name} cannot be {action}: VMs run on it: {', '.join(vms)}"
        )
