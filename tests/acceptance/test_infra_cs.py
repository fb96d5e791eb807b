"""A simulated cloud built with ``cs`` against a real server: hosts come Up, a host that stops
answering leaves Up within a bounded time, and after a restart every host is Up again.

The monitor's timings are CloudStack's settings: the test sets ``ping.interval`` to one second
with updateConfiguration and restarts the server, which reads it at every round.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests.acceptance.conftest import Server, client_env, start_server, stop_server

pytestmark = pytest.mark.acceptance

GIB = 1024**3


def admin(server: Server) -> CloudStack:
    return CloudStack(
        endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )


def wait_for(what: str, check: Callable[[], bool], within: float = 20.0) -> float:
    """Seconds until ``check`` holds; fails the test after ``within`` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if check():
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {within} s")


def states(api: CloudStack) -> dict[str, str]:
    return {host["name"]: host["state"] for host in api.listHosts(fetch_list=True)}


@pytest.fixture
def fast_pinging(tmp_path: Path) -> Iterator[Server]:
    """A server whose monitor pings every second (set, then restarted to take effect)."""
    data_dir = tmp_path / "var"
    first = start_server(data_dir)
    try:
        admin(first).updateConfiguration(name="ping.interval", value="1")
    finally:
        stop_server(first)
    running = start_server(data_dir)
    yield running
    stop_server(running)


def build(api: CloudStack) -> dict[str, Any]:
    zone = api.createZone(
        name="sim-zone", dns1="8.8.8.8", internaldns1="10.0.0.1", networktype="Advanced"
    )["zone"]
    pod = api.createPod(
        name="sim-pod",
        zoneid=zone["id"],
        gateway="172.16.0.1",
        netmask="255.255.255.0",
        startip="172.16.0.10",
        endip="172.16.0.99",
    )["pod"]
    cluster = api.addCluster(
        clustername="sim-cluster",
        clustertype="CloudManaged",
        hypervisor="Simulator",
        zoneid=zone["id"],
        podid=pod["id"],
    )["cluster"][0]
    added = {}
    for name, query in (("sim-1", "cpunumber=8&cpuspeed=2400&memory=17179869184"), ("sim-2", "")):
        answer = api.addHost(
            zoneid=zone["id"],
            podid=pod["id"],
            clusterid=cluster["id"],
            hypervisor="Simulator",
            url=f"http://{name}?{query}" if query else f"http://{name}",
            username="root",
            password="password",
        )
        added[name] = answer["host"][0]
    return added


def test_simulated_hosts_follow_their_agents_and_survive_a_restart(
    fast_pinging: Server,
) -> None:
    api = admin(fast_pinging)
    added = build(api)
    assert {name: host["state"] for name, host in added.items()} == {"sim-1": "Up", "sim-2": "Up"}
    # Hosts are named SimulatedAgent.<guid>, as CloudStack's simulator names them.
    listed = {host["id"]: host for host in api.listHosts(type="Routing", fetch_list=True)}
    big, small = listed[added["sim-1"]["id"]], listed[added["sim-2"]["id"]]
    assert (big["cpunumber"], big["cpuspeed"], big["memorytotal"]) == (8, 2400, 16 * GIB)
    assert (small["cpunumber"], small["cpuspeed"], small["memorytotal"]) == (4, 2000, 8 * GIB)
    assert {big["resourcestate"], small["resourcestate"]} == {"Enabled"}

    # sim-1 stops answering: every ping and every reconnection attempt fails.
    for command in ("PingCommand", "StartupRoutingCommand"):
        api.configureSimulator(hostid=big["id"], name=command, value="result:fail")
    took = wait_for("sim-1 leaves Up", lambda: states(api)[big["name"]] != "Up")
    assert took < 10  # ping.interval 1 s, ping.timeout 2.5 intervals
    assert states(api) == {big["name"]: "Alert", small["name"]: "Up"}

    stop_server(fast_pinging)
    restarted = start_server(fast_pinging.data_dir)
    try:
        again = admin(restarted)
        wait_for("both hosts Up after the restart", lambda: set(states(again).values()) == {"Up"})
        hosts = {host["name"]: host for host in again.listHosts(fetch_list=True)}
        assert hosts[big["name"]]["memorytotal"] == 16 * GIB
        shown = subprocess.run(
            [str(Path(sys.executable).with_name("cs")), "listHosts", f"name={small['name']}"],
            env=client_env(restarted),
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(shown.stdout)["host"][0]["state"] == "Up"
    finally:
        stop_server(restarted)
