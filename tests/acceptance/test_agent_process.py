"""A real server and a real ``cirrostack agent`` process (issue 7, item 1): addHost with the
agent's url and secret through the cs client; the server restarted opens the sealed secret and
keeps watching the host: the agent killed makes it Alert, started again makes it Up."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests import agent_processes
from tests.acceptance.conftest import (
    Server,
    free_port,
    simulator_cluster,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.acceptance]


def _client(server: Server) -> CloudStack:
    return CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)


def _state(cs: CloudStack, host_id: str) -> str:
    return str(cs.listHosts(id=host_id)["host"][0]["state"])


def _wait_for(cs: CloudStack, host_id: str, state: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _state(cs, host_id) == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"host {host_id} is {_state(cs, host_id)}, not {state}")


def _add(cs: CloudStack, url: str, secret: str) -> dict[str, Any]:
    zone_id, pod_id, cluster_id = simulator_cluster(cs)
    added = cs.addHost(
        zoneid=zone_id,
        podid=pod_id,
        clusterid=cluster_id,
        hypervisor="Simulator",
        url=url,
        username="root",
        password=secret,
    )
    return dict(added["host"][0])


def test_an_agent_process_is_watched_across_a_server_restart(
    server: Server, tmp_path: Path
) -> None:
    agent_dir, listen = tmp_path / "agent", f"127.0.0.1:{free_port()}"
    agent = agent_processes.start(agent_dir, listen)
    running = server
    try:
        written = agent_processes.identity(agent_dir)
        cs = _client(running)
        cs.updateConfiguration(name="ping.interval", value="1")
        host = _add(cs, written["url"], written["secret"])
        assert host["state"] == "Up"
        assert written["secret"] not in str(cs.listHosts(id=host["id"]))
        stop_server(running, signal.SIGKILL)
        running = start_server(running.data_dir)
        cs = _client(running)
        agent_processes.stop(agent, signal.SIGKILL)
        _wait_for(cs, host["id"], "Alert")
        agent = agent_processes.start(agent_dir, listen)
        _wait_for(cs, host["id"], "Up")
    finally:
        agent_processes.stop(agent)
        if running is not server:
            stop_server(running)
