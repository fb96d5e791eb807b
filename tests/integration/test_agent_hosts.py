"""Hosts whose agent is a ``cirrostack agent`` process (issue 7, item 1): addHost with its url
and secret, the secret sealed and never shown, and the host monitor noticing the process die
(Alert, then Down) and come back (Up)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api.views import hosts as host_views
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import agents, details, hosts
from tests import agent_processes
from tests.conftest import Database
from tests.integration.test_infra_commands import Infra
from tests.integration.test_infra_services import World, _transitions, _world


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    yield from _world(database)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Agent:
    """A running agent on a port it can be restarted on."""

    data_dir: Path
    listen: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    data_dir, listen = tmp_path / "agent", f"127.0.0.1:{_free_port()}"
    running = Agent(data_dir, listen, agent_processes.start(data_dir, listen))
    yield running
    agent_processes.stop(running.process)


def _add(world: World, url: str, password: str | None) -> models.Host:
    new = hosts.NewHost(url, "Simulator", world.cluster.uuid, username="root", password=password)
    return hosts.add(world.session, world.agents, world.zone, world.pod, new)


def test_an_agent_process_is_added_with_its_secret_sealed_and_never_shown(
    world: World, agent: Agent
) -> None:
    data_dir = agent.data_dir
    written = agent_processes.identity(data_dir)
    host = _add(world, written["url"] + "?cpunumber=8", written["secret"])
    assert (host.status, host.resource_state, host.cpus) == ("Up", "Enabled", 8)
    assert host.url == written["url"] + "?cpunumber=8"
    assert host.private_ip_address.startswith("192.168.1.")  # the pod's, not 127.0.0.1
    stored = details.of_host(world.session, host.id)[agents.SECRET_DETAIL]
    assert stored.startswith("cs1:") and written["secret"] not in stored
    shown = str(host_views.host_item(world.session, host))
    assert written["secret"] not in shown and agents.SECRET_DETAIL not in shown


@pytest.mark.parametrize("password", [None, "", "wrong-secret"])
def test_without_the_right_secret_no_host_is_added(
    world: World, agent: Agent, password: str | None
) -> None:
    url = agent_processes.identity(agent.data_dir)["url"]
    expected = errors.ResourceUnavailable if password else errors.InvalidParameterValue
    with pytest.raises(expected, match=r"refused this server's secret|needs its secret"):
        _add(world, url, password)
    world.session.rollback()
    assert world.session.scalars(sa.select(models.Host)).all() == []


def test_a_killed_agent_makes_its_host_alert_then_down_and_back_up_when_restarted(
    world: World, agent: Agent
) -> None:
    written = agent_processes.identity(agent.data_dir)
    host = _add(world, written["url"], written["secret"])
    world.sweep()
    assert world.session.get_one(models.Host, host.id).status == "Up"
    agent_processes.stop(agent.process, signal.SIGKILL)
    world.clock.advance(3)
    world.sweep()
    assert world.session.get_one(models.Host, host.id).status == "Alert"
    world.clock.advance(3)
    world.sweep()
    assert world.session.get_one(models.Host, host.id).status == "Down"
    agent.process = agent_processes.start(agent.data_dir, agent.listen)
    world.sweep()
    assert world.session.get_one(models.Host, host.id).status == "Up"
    assert _transitions(world.session, host)[-4:] == [
        "Up->Alert",
        "Alert->Down",
        "Down->Connecting",
        "Connecting->Up",
    ]


def test_add_host_through_the_api_connects_the_agent_and_never_shows_its_secret(
    sqlite_database: Database, agent: Agent
) -> None:
    infra = Infra(sqlite_database)
    zone = infra.zone()
    cluster = infra.cluster(zone["id"], infra.pod(zone["id"])["id"])
    written = agent_processes.identity(agent.data_dir)
    added = infra.ok(
        "addHost",
        zoneid=cluster["zoneid"],
        podid=cluster["podid"],
        clusterid=cluster["id"],
        hypervisor="Simulator",
        url=written["url"],
        username="root",
        password=written["secret"],
    )
    host = added["host"][0]
    assert host["state"] == "Up" and host["hypervisor"] == "Simulator"
    listed = infra.ok("listHosts", id=host["id"], details="all")
    assert written["secret"] not in json.dumps([added, listed])
    assert agents.SECRET_DETAIL not in json.dumps([added, listed])
    status, text = infra.error(
        "addHost",
        zoneid=cluster["zoneid"],
        podid=cluster["podid"],
        clusterid=cluster["id"],
        hypervisor="Simulator",
        url=written["url"],
        username="root",
        password="password",
    )
    assert status == 534 and "refused this server's secret" in text
