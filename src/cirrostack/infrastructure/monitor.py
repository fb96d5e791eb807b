"""The host monitor: a background service that keeps every host's status true.

Every ``interval`` seconds (and once at start) it looks at each live routing host:

- connected here: ping it. An answer is recorded (Ping, ``last_ping``). When the agent has not
  answered for ``timeout`` seconds the host goes Alert (PingTimeout) and is no longer connected.
- not connected here (new server process, or lost): try the startup exchange, which brings it
  Up again (AgentConnected → Connecting, Ready → Up). A host that cannot be reached goes Alert
  after ``timeout`` if it was Up or Connecting, and Down (HostDown) after ``down_after``.

No agent is waited on inside a transaction: a round reads the hosts (one short read), then
pings or reconnects all of them in parallel with no transaction open, then writes each host's
outcome in a short transaction of its own, so one host's trouble never blocks another's; a
lost race with an API command (StateConflict) just waits for the next round, a deadlock is run
again (``db.transactions``). The monitor owns
the hosts of its database: with several management servers on one database, each would ping
every host (one owner per host, by ``mgmt_server_id``, is future work).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.compute import power_reports
from cirrostack.config import keys, settings
from cirrostack.db import base, engine, outage, transactions
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.infrastructure import capacity
from cirrostack.states import errors as state_errors
from cirrostack.states import gate, machines
from cirrostack.transport import errors as transport_errors

log = logging.getLogger(__name__)

_STATUS = machines.HOST_STATUS
_EVENT = machines.HostStatusEvent


@dataclass(frozen=True)
class Timings:
    """How often hosts are pinged, and how long silence lasts before Alert and before Down.

    The defaults are CloudStack's: ``ping.interval`` 60 s and ``ping.timeout`` 2.5 intervals;
    Down after twice the timeout. A server reads them from those settings (``configured``).
    """

    interval: float = 60.0
    timeout: float = 150.0
    down_after: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.interval <= self.timeout <= self.down_after:
            raise ValueError(f"need 0 < interval <= timeout <= down_after, got {self}")

    @classmethod
    def every(cls, interval: float, timeout_factor: float = 2.5) -> Timings:
        """Timings for a ping ``interval``: timeout after ``timeout_factor`` intervals, Down
        after twice the timeout."""
        timeout = interval * timeout_factor
        return cls(interval, timeout, 2 * timeout)

    @classmethod
    def configured(cls, session: Session) -> Timings:
        """The timings the settings ``ping.interval`` and ``ping.timeout`` ask for."""
        values = settings.Settings(session)
        return cls.every(float(values.get(keys.PING_INTERVAL)), values.get(keys.PING_TIMEOUT))


#: Hosts exchanged with at once in a round.
PARALLEL = 16

#: An exchange's outcome: an answered ping (None), a startup, or how the agent failed.


@dataclass(frozen=True)
class Pinged:
    """An answered ping: the host's power report (instance name -> power state)."""

    vm_states: dict[str, str]


Outcome = agents_module.Startup | transport_errors.TransportError | Pinged | None


@dataclass(frozen=True)
class _Watched:
    """A host of this round: where its agent is, and whether it was connected."""

    target: agents_module.Target
    connected: bool


def sweep(
    sessions: sessionmaker[Session],
    agents: agents_module.Agents,
    timings: Timings,
    watch: outage.Watch | None = None,
    on_round: Callable[[list[int]], object] | None = None,
) -> None:
    """One round over every watched host; never raises (failures are logged).

    ``on_round`` runs after the round's writes, with no transaction open, given the hosts
    whose agent (re)started this round (the server connects hosts to their storage pools).

    The hosts are read in one short transaction; every ping or reconnect then runs in
    parallel with no transaction open (one silent agent delays no other and holds no lock);
    each host's outcome is written in a short transaction of its own. ``watch`` logs a
    database outage once, not once per round.
    """
    try:
        watched = _watched(sessions, agents)
    except Exception as exc:
        if watch is None or watch.failed(exc) is None:
            log.warning("host monitor: cannot read the hosts this round: %s", exc)
        return
    if watch is not None:
        watch.succeeded(wrote=False)
    if not watched:
        return
    with ThreadPoolExecutor(min(PARALLEL, len(watched)), thread_name_prefix="host-ping") as pool:
        outcomes = list(pool.map(lambda host: _exchange(agents, host), watched))
    for host, outcome in zip(watched, outcomes, strict=True):
        _record(sessions, agents, host, outcome, timings)
    if on_round is not None:
        started = [
            host.target.host_id
            for host, outcome in zip(watched, outcomes, strict=True)
            if isinstance(outcome, agents_module.Startup)
        ]
        on_round(started)


def _exchange(agents: agents_module.Agents, watched: _Watched) -> Outcome:
    """Ping a connected host, else try its startup; no database (runs in a pool thread)."""
    try:
        if watched.connected:
            return Pinged(agents_module.probe(agents, watched.target))
        return agents_module.start(agents, watched.target)
    except transport_errors.TransportError as exc:
        return exc


def _record(
    sessions: sessionmaker[Session],
    agents: agents_module.Agents,
    watched: _Watched,
    outcome: Outcome,
    timings: Timings,
) -> None:
    host_id = watched.target.host_id

    def work(session: Session) -> None:
        host = session.get(models.Host, host_id)
        if host is not None and host.removed is None:
            record(session, agents, host, watched.connected, outcome, timings)

    try:
        transactions.run(sessions, work, name=f"host {host_id}")
    except (state_errors.StateError, SQLAlchemyError) as exc:
        log.info("host %s: skipped this round: %s", host_id, exc)
    except Exception:
        log.exception("host %s: the monitor failed on it", host_id)


def record(
    session: Session,
    agents: agents_module.Agents,
    host: models.Host,
    connected: bool,
    outcome: Outcome,
    timings: Timings,
) -> None:
    """Write one host's outcome and move its status as silence demands (no commit)."""
    assert host.guid is not None
    if connected:
        if outcome is None or isinstance(outcome, Pinged):
            agents_module.record_ping(session, agents, host)
            if isinstance(outcome, Pinged):
                power_reports.record(session, host.id, outcome.vm_states)
        elif agents.silent_for(host.guid) >= timings.timeout:
            _lose(session, agents, host, _EVENT.PingTimeout, str(outcome))
        return
    if not isinstance(outcome, agents_module.Startup):
        _unreachable(session, agents, host, timings, str(outcome))
        return
    try:
        agents_module.record_startup(session, agents, host, outcome)
    except transport_errors.TransportError as exc:
        _unreachable(session, agents, host, timings, str(exc))
        return
    if host.resource_state == machines.ResourceState.Creating.value:
        # Its first connection was cut short: finish it as addHost would have.
        gate.transition(session, host, machines.ResourceStateEvent.InternalCreated)
        capacity.set_state(session, host)


def _unreachable(
    session: Session,
    agents: agents_module.Agents,
    host: models.Host,
    timings: Timings,
    reason: str,
) -> None:
    assert host.guid is not None
    silent = agents.silent_for(host.guid)
    status = _STATUS.parse(host.status)
    if status in (machines.HostStatus.Up, machines.HostStatus.Connecting):
        if silent >= timings.timeout:
            _lose(session, agents, host, _EVENT.PingTimeout, reason)
    elif status is not machines.HostStatus.Down and silent >= timings.down_after:
        _lose(session, agents, host, _EVENT.HostDown, reason)


def _lose(
    session: Session,
    agents: agents_module.Agents,
    host: models.Host,
    event: machines.HostStatusEvent,
    reason: str,
) -> None:
    assert host.guid is not None
    agents.lost(host.guid)
    if not _STATUS.allows(_STATUS.parse(host.status), event):
        return
    log.warning("host %s (%s): %s: %s", host.name, host.uuid, event, reason)
    gate.transition(
        session, host, event, description=reason, values={"disconnected": base.utcnow()}
    )


def _watched(sessions: sessionmaker[Session], agents: agents_module.Agents) -> list[_Watched]:
    with engine.reading(sessions) as session:
        hosts = session.scalars(
            sa.select(models.Host)
            .where(
                models.Host.removed.is_(None),
                models.Host.type == "Routing",
                models.Host.guid.is_not(None),
                models.Host.status != machines.HostStatus.Removed.value,
            )
            .order_by(models.Host.id)
        ).all()
        targets = [agents_module.target_of(session, host) for host in hosts]
    return [_Watched(target, agents.link(target.guid).connected) for target in targets]


class HostMonitor:
    """The monitor as a server background service (``start``/``stop``)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        agents: agents_module.Agents,
        timings: Timings | None = None,
        on_round: Callable[[list[int]], object] | None = None,
    ) -> None:
        """``timings`` None: read ``ping.interval`` and ``ping.timeout`` before every round;
        ``on_round`` as ``sweep`` takes it."""
        self.sessions = sessions
        self.agents = agents
        self.timings = timings
        self.on_round = on_round
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = outage.Watch(log, "host monitor")

    def start(self) -> None:
        """Start the monitoring thread; the first round runs at once."""
        if self._thread is not None:
            raise RuntimeError("the host monitor is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="host-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round and wait for the thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            timings = self.timings or self._configured()
            sweep(self.sessions, self.agents, timings, self._outage, self.on_round)
            self._stopping.wait(timings.interval)

    def _configured(self) -> Timings:
        try:
            with self.sessions() as session:
                self.agents.inactivity = settings.Settings(session).get(
                    keys.AGENT_COMMAND_INACTIVITY_TIMEOUT
                )
                return Timings.configured(session)
        except Exception as exc:
            if self._outage.failed(exc) is None:
                log.exception("cannot read ping.interval/ping.timeout; using the defaults")
            return Timings()
