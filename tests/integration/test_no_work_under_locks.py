"""No agent exchange runs inside a transaction: addHost and the host monitor (SQLite).

An agent on the network takes time to answer; while it does, SQLite's only write lock must be
free, or every other write of the server waits (and fails once the busy timeout runs out). The
transport here is the real in-process one behind a wire that takes ``DELAY`` seconds and, while
each command is on it, tries to take the write lock from another connection without waiting.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from cirrostack.infrastructure import monitor
from cirrostack.protocol import commands, messages
from cirrostack.transport import base, endpoint
from cirrostack.transport import errors as transport_errors
from tests.cloud import Cloud
from tests.databases import Database
from tests.integration.test_infra_commands import Infra

DELAY = 0.3


class Wire:
    """A transport in front of ``inner`` that notes, per command, whether the database's
    write lock was free while the command travelled, and how many travelled at once."""

    def __init__(self, inner: base.Transport, path: str) -> None:
        self.inner = inner
        self.path = path
        self.lock_free: list[bool] = []
        self.most_at_once = 0
        #: When set, no agent answers a startup (as if it were unreachable).
        self.refuse_startups = False
        self._in_flight = 0
        self._lock = threading.Lock()
        self._probing = threading.Lock()

    def send(
        self, to: endpoint.Endpoint, command: messages.Command, progress: object = None
    ) -> messages.Answer:
        with self._lock:
            self._in_flight += 1
            self.most_at_once = max(self.most_at_once, self._in_flight)
        try:
            with self._probing:  # probes of parallel sends must not take the lock from each other
                self.lock_free.append(write_lock_free(self.path))
            time.sleep(DELAY)
            if self.refuse_startups and isinstance(command, commands.StartupRoutingCommand):
                raise transport_errors.AgentUnavailable(f"{to} does not answer")
            return self.inner.send(to, command)
        finally:
            with self._lock:
                self._in_flight -= 1

    def cancel(self, to: endpoint.Endpoint, command_id: str) -> bool:
        return self.inner.cancel(to, command_id)


def write_lock_free(path: str) -> bool:
    """Whether another connection could take SQLite's write lock on ``path`` right now."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def _wired(sqlite_database: Database) -> tuple[Infra, Wire]:
    infra = Infra(sqlite_database)
    agents = infra.cloud.agents
    wire = Wire(agents.transport, str(sqlite_database.url.database))
    agents.transport = wire
    return infra, wire


def test_add_host_waits_for_its_agent_with_no_transaction_open(
    sqlite_database: Database,
) -> None:
    infra, wire = _wired(sqlite_database)
    _, _, _, host = infra.stack()
    assert host["state"] == "Up"
    assert len(wire.lock_free) >= 2  # the startup and ready commands
    assert all(wire.lock_free), wire.lock_free


def test_a_host_whose_agent_does_not_answer_is_not_added(sqlite_database: Database) -> None:
    infra, wire = _wired(sqlite_database)
    zone = infra.zone()
    pod = infra.pod(zone["id"])
    cluster = infra.cluster(zone["id"], pod["id"])
    infra.host(cluster, url="http://sim-a")
    wire.refuse_startups = True
    wire.lock_free.clear()
    status, text = infra.error(
        "addHost",
        zoneid=zone["id"],
        podid=pod["id"],
        clusterid=cluster["id"],
        hypervisor="Simulator",
        url="http://sim-b",
        username="root",
        password="password",
    )
    assert status == 534 and text.startswith("Unable to add the host SimulatedAgent."), text
    assert wire.lock_free == [True]
    assert len(infra.ok("listHosts")["host"]) == 1
    wire.refuse_startups = False
    assert infra.host(cluster, url="http://sim-b")["state"] == "Up"


def test_the_monitor_pings_hosts_in_parallel_with_no_transaction_open(
    sqlite_database: Database,
) -> None:
    infra, wire = _wired(sqlite_database)
    zone = infra.zone()
    pod = infra.pod(zone["id"])
    cluster = infra.cluster(zone["id"], pod["id"])
    for number in range(4):
        infra.host(cluster, url=f"http://sim-{number}")
    wire.lock_free.clear()
    wire.most_at_once = 0
    monitor.sweep(sqlite_database.sessions, infra.cloud.agents, monitor.Timings(1, 2.5, 5))
    assert len(wire.lock_free) == 4
    assert all(wire.lock_free), wire.lock_free
    assert wire.most_at_once >= 2
    pinged = [h["lastpinged"] for h in infra.ok("listHosts")["host"]]
    assert len(pinged) == 4 and all(pinged)


def test_signed_reads_are_answered_while_another_connection_holds_the_write_lock(
    sqlite_database: Database,
) -> None:
    """Authentication and read-only commands take no write lock: a writer holding it (a long
    write elsewhere) does not make them wait."""
    cloud = Cloud(sqlite_database.sessions)
    writer = sqlite3.connect(str(sqlite_database.url.database), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        for command in ("listCapabilities", "listZones", "listAccounts", "listUsers"):
            assert cloud.call(cloud.admin.keys, command).status == 200, command
    finally:
        writer.execute("ROLLBACK")
        writer.close()
