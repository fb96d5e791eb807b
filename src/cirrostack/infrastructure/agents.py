"""The agents this management server reaches, and the exchanges that connect and ping them.

``Agents`` bundles the transport, the backends (``cirrostack.plugins``, by hypervisor), the
agents running in this process (the simulator's fleet), the address of each agent that runs in
a process of its own (``route``; the HTTP transport's directory), and, per host guid, the link:
whether the host is connected and when its agent last answered (monotonic time). It is shared by
the API (addHost connects a host) and the host monitor (pings, reconnects), from several
threads. Everything in it is rebuilt after a restart: simulated hosts are booted again from
their host rows and details, and links start over.

``connect`` is the startup exchange that brings a host Up::

    StartupRoutingCommand → report ─► AgentConnected (Connecting), resources and capacity written
    ReadyCommand → ready          ─► Ready (Up)

``ping`` is one PingCommand and its bookkeeping. Each is split in two so that no transaction
is open while an agent is waited on: ``target_of`` (a short read), ``start``/``probe`` (the
exchange, no database), ``record_startup``/``record_ping`` (a short write). ``connect`` and
``ping`` chain the three in one session for callers that hold no lock worth keeping short.
Every status change goes through the state gate.
"""

from __future__ import annotations

import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.orm import Session

from cirrostack import plugins
from cirrostack.accounts import vault
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import capacity, clusters, details
from cirrostack.protocol import answers, commands
from cirrostack.states import gate, machines
from cirrostack.transport import base, endpoint, errors, http, inprocess, routed

#: The host detail holding a remote agent's secret, sealed (``vault.HOST_SECRET``).
SECRET_DETAIL = "agent.secret"  # noqa: S105 - a detail name, not a secret


@dataclass(frozen=True)
class Link:
    """What this server knows of a host's agent: connected or not, last answer (monotonic)."""

    connected: bool
    last_answer: float


class Agents:
    """The transport to agents, the simulated hosts of this process, and a link per host."""

    def __init__(
        self,
        transport: base.Transport,
        fleet: plugins.InProcess,
        clock: Callable[[], float] = time.monotonic,
        local_hypervisor: str = "Simulator",
        backends: Mapping[str, plugins.Backend] | None = None,
    ) -> None:
        self.transport = transport
        #: The backends this server knows, by lower-case hypervisor (``plugins.all_backends``).
        self.backends = plugins.resolved() if backends is None else backends
        #: The agents running in this process (the in-process backend's), by host guid.
        self.fleet = fleet
        #: The hypervisor whose hosts run in ``fleet`` when their url names no agent process.
        self.local_hypervisor = local_hypervisor
        self.clock = clock
        #: Seconds a command may go without progress (``agent.command.inactivity.timeout``,
        #: refreshed by the host monitor every round; the transports read it at every send).
        self.inactivity = base.DEFAULT_INACTIVITY
        self._links: dict[str, Link] = {}
        self._remotes: dict[str, http.Remote] = {}
        self._lock = threading.Lock()

    @classmethod
    def in_process(
        cls,
        clock: Callable[[], float] = time.monotonic,
        verify: ssl.SSLContext | str | bool = True,
        backends: Mapping[str, plugins.Backend] | None = None,
        workdir: Path | None = None,
    ) -> Agents:
        """A server's agents: the in-process agents of its backend that has some (the
        simulator), reached in-process, and agents with an address (``route``) over HTTP(S),
        ``verify`` checking their certificates. ``backends`` (default: ``plugins.resolved()``)
        by hypervisor; raises PluginError unless exactly one of them runs agents in-process.
        ``workdir``: where the in-process agents keep their files (their storage pools and
        image stores' stand-ins), None for a temporary directory."""
        backends = plugins.resolved() if backends is None else backends
        local = [
            (backend.hypervisor, fleet)
            for backend in backends.values()
            if (fleet := backend.in_process(workdir)) is not None
        ]
        if len(local) != 1:
            raise plugins.PluginError(
                f"exactly one backend may run hosts in-process, not {len(local)}"
            )
        hypervisor, fleet = local[0]
        made = cls(inprocess.InProcessTransport(fleet), fleet, clock, hypervisor, backends)
        made.transport = routed.RoutedTransport(
            inprocess.InProcessTransport(fleet, lambda: made.inactivity),
            http.HttpTransport(made, lambda: made.inactivity, verify),
            made,
        )
        return made

    def route(self, guid: str, remote: http.Remote) -> None:
        """Reach the host's agent at ``remote`` (its own process) from now on."""
        with self._lock:
            self._remotes[guid] = remote

    def remote_for(self, guid: str) -> http.Remote | None:
        """The address of the host's agent if it runs in its own process (the HTTP
        transport's directory), else None."""
        with self._lock:
            return self._remotes.get(guid)

    def link(self, guid: str) -> Link:
        """The host's link; a host first seen now starts disconnected, answered "now"."""
        with self._lock:
            return self._links.setdefault(guid, Link(False, self.clock()))

    def answered(self, guid: str) -> None:
        """The host's agent answered: connected, and the silence clock restarts."""
        with self._lock:
            self._links[guid] = Link(True, self.clock())

    def lost(self, guid: str) -> None:
        """The host is no longer connected (its last answer time is kept)."""
        with self._lock:
            current = self._links.get(guid)
            if current is not None:
                self._links[guid] = replace(current, connected=False)

    def forget(self, guid: str) -> None:
        """Drop everything about the host (it was deleted); powers a simulated host off."""
        with self._lock:
            self._links.pop(guid, None)
            self._remotes.pop(guid, None)
        self.fleet.discard(guid)

    def silent_for(self, guid: str) -> float:
        """Seconds since the host's agent last answered (0 for a host first seen now)."""
        return self.clock() - self.link(guid).last_answer


def ping_stamp() -> int:
    """``host.last_ping`` for now: milliseconds shifted right by 10, as CloudStack keeps it."""
    return int(time.time() * 1000) >> 10


@dataclass(frozen=True)
class Target:
    """What an exchange with a host's agent needs, read from the host row beforehand, so
    the exchange itself runs with no transaction open (and no ORM object in hand)."""

    host_id: int
    uuid: str
    name: str
    guid: str
    hypervisor_type: str | None
    #: Where the host's agent runs when it runs in its own process (None: in this one).
    remote: http.Remote | None = None
    #: The host's backend settings (details), sent in the startup greeting.
    settings: dict[str, str] = field(default_factory=dict)
    private_ip_address: str = ""

    @property
    def endpoint(self) -> endpoint.Endpoint:
        return endpoint.Endpoint(self.host_id, self.guid, self.name)


@dataclass(frozen=True)
class Startup:
    """The startup exchange's outcome: the agent's report, and how the ready step failed
    (None: it succeeded)."""

    report: answers.StartupRoutingAnswer
    ready_failure: errors.TransportError | None = None


def target_of(session: Session, host: models.Host) -> Target:
    """The exchange target of ``host`` (a short read); raises ValueError without a guid."""
    if host.guid is None:
        raise ValueError(f"host {host.uuid} has no agent (no guid)")
    stored = details.of_host(session, host.id)
    remote = _remote(session, host, stored)
    settings = {name: value for name, value in stored.items() if name != SECRET_DETAIL}
    return Target(
        host.id,
        host.uuid,
        host.name,
        host.guid,
        host.hypervisor_type,
        remote,
        settings,
        host.private_ip_address,
    )


def _remote(session: Session, host: models.Host, stored: dict[str, str]) -> http.Remote | None:
    """The address and opened secret of the host's own-process agent; None for an in-process
    one. A secret that does not open leaves the secret empty: the agent refuses it, and the
    host goes Alert like any host whose agent will not talk."""
    sealed = stored.get(SECRET_DETAIL)
    if sealed is None or host.url is None:
        return None
    try:
        secret = vault.of(session).open(sealed, vault.HOST_SECRET)
    except vault.SecretUnreadable:
        secret = ""
    return http.Remote(base_url(host.url), secret)


def base_url(url: str) -> str:
    """``scheme://netloc`` of an addHost url (its path and query are not the agent's)."""
    parts = urllib.parse.urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc}"


def start(agents: Agents, target: Target) -> Startup:
    """The startup exchange (StartupRoutingCommand, then ReadyCommand), with no database.

    Called with no transaction open (addHost between its two transactions, the host monitor
    in parallel for every host). A simulated host is booted first. Raises a transport error
    (AgentUnavailable, BadAnswer) when the startup gets no valid report; a failed ready step
    is returned, for ``record_startup`` to write.
    """
    if target.remote is not None:
        agents.route(target.guid, target.remote)
    else:
        _boot(agents, target)
    to = target.endpoint
    greeting = commands.StartupRoutingCommand(
        host_id=target.host_id,
        host_uuid=target.uuid,
        guid=target.guid,
        name=target.name,
        private_ip_address=target.private_ip_address,
        settings=target.settings,
    )
    report = base.exchange(agents.transport, to, greeting, answers.StartupRoutingAnswer)
    _check_report(target, report)
    ready = commands.ReadyCommand(
        host_id=target.host_id, host_uuid=target.uuid, host_name=target.name
    )
    try:
        base.exchange(agents.transport, to, ready, answers.ReadyAnswer)
    except errors.TransportError as exc:
        return Startup(report, exc)
    return Startup(report)


def record_startup(session: Session, agents: Agents, host: models.Host, startup: Startup) -> None:
    """Write a startup's outcome: AgentConnected (Connecting) with the reported resources and
    capacity, then Ready (Up). When the ready step failed the host goes on to Alert
    (AgentDisconnected) and that failure is raised. State errors of the gate pass through.
    """
    assert host.guid is not None
    gate.transition(
        session, host, machines.HostStatusEvent.AgentConnected, values=_resources(startup.report)
    )
    capacity.write(session, host, clusters.overcommit(session, host.cluster_id))
    if startup.ready_failure is not None:
        gate.transition(
            session,
            host,
            machines.HostStatusEvent.AgentDisconnected,
            description=str(startup.ready_failure),
        )
        agents.lost(host.guid)
        raise startup.ready_failure
    gate.transition(session, host, machines.HostStatusEvent.Ready)
    agents.answered(host.guid)


def connect(session: Session, agents: Agents, host: models.Host) -> None:
    """``start`` and ``record_startup`` in the caller's transaction (for callers that hold
    no lock worth keeping short); raises as they do."""
    record_startup(session, agents, host, start(agents, target_of(session, host)))


def probe(agents: Agents, target: Target) -> dict[str, str]:
    """One PingCommand, with no database; the host's power report (instance name -> power
    state of each running VM). Raises AgentUnavailable or BadAnswer when the agent does not
    answer properly (deciding what silence means is the monitor's job)."""
    if target.remote is not None:
        agents.route(target.guid, target.remote)
    to = target.endpoint
    answer = base.exchange(
        agents.transport, to, commands.PingCommand(host_id=target.host_id), answers.PingAnswer
    )
    if answer.guid != target.guid:
        raise errors.BadAnswer(f"{to} answered a ping as {answer.guid}")
    return dict(answer.vm_states)


def record_ping(session: Session, agents: Agents, host: models.Host) -> None:
    """Write an answered ping: the Ping self-transition with ``last_ping``."""
    assert host.guid is not None
    gate.transition(
        session, host, machines.HostStatusEvent.Ping, values={"last_ping": ping_stamp()}
    )
    agents.answered(host.guid)


def ping(session: Session, agents: Agents, host: models.Host) -> None:
    """``probe`` and ``record_ping`` in the caller's transaction; raises as ``probe``."""
    probe(agents, target_of(session, host))
    record_ping(session, agents, host)


def boot(session: Session, agents: Agents, host: models.Host) -> None:
    """Start the host's in-process agent if it has one and it is not running yet.

    Only hosts of the in-process backend (simulated ones) whose url names no agent process
    have one; it is rebuilt from the row and the details. Raises AgentUnavailable when the
    stored details cannot be used.
    """
    if host.guid is None or agents.fleet.running(host.guid):
        return
    target = target_of(session, host)
    if target.remote is None:
        _boot(agents, target)


def _boot(agents: Agents, target: Target) -> None:
    if agents.fleet.running(target.guid):
        return
    if (target.hypervisor_type or "").lower() != agents.local_hypervisor.lower():
        return  # nothing to start here: the transport will find no agent
    try:
        agents.fleet.start(target.guid, target.name, target.private_ip_address, target.settings)
    except ValueError as exc:
        raise errors.AgentUnavailable(f"cannot start simulated host {target.name}: {exc}") from None


def _check_report(target: Target, report: answers.StartupRoutingAnswer) -> None:
    if report.guid != target.guid:
        raise errors.BadAnswer(
            f"host {target.name}: agent {report.guid} answered for {target.guid}"
        )
    if report.hypervisor_type != target.hypervisor_type:
        raise errors.BadAnswer(
            f"host {target.name} reports hypervisor {report.hypervisor_type}, "
            f"expected {target.hypervisor_type}"
        )


def _resources(report: answers.StartupRoutingAnswer) -> dict[str, object]:
    """The host columns a startup report sets (in the AgentConnected UPDATE itself)."""
    values: dict[str, object] = {
        "cpus": report.cpus,
        "cpu_sockets": report.cpu_sockets,
        "speed": report.speed,
        "ram": report.memory,
        "dom0_memory": report.dom0_memory,
        "total_size": report.local_storage,
        "hypervisor_version": report.hypervisor_version,
        "version": report.agent_version,
        "private_ip_address": report.private_ip_address,
        "arch": report.arch,
        "capabilities": report.capabilities,
        "last_ping": ping_stamp(),
    }
    # What the agent does not know (a simulator's netmask) keeps the value the row has.
    optional = {
        "private_netmask": report.private_netmask,
        "private_mac_address": report.private_mac_address,
    }
    values.update({name: value for name, value in optional.items() if value is not None})
    return values
