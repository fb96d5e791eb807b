"""Maintenance jobs on hosts whose agents are real processes, and a process killed mid-command
(issue 7, item 7): a real ``cirrostack serve``, two ``cirrostack agent --backend simulator``
processes added as hosts through the API with the ``cs`` client, and a prepareHostForMaintenance
job on each. The simulated drain (``maintainms``) reports progress in ten steps, which the job
shows as ``jobprocstatus``: that is how the test knows the command is running on the agent
before it kills anything.

Agent killed: the kernel closes the dead agent's end of the command's connection, so the server
sees the stream end without an answer and fails the job at once ("hung up before answering"),
not after ``agent.command.inactivity.timeout`` (left at its 60 s default here: the test waits far
less than that). The failed job's host is rolled back to Enabled in the transaction that fails
the job; the monitor (ping.interval 1 s) makes it Alert, then Down; the other agent's job
succeeds; no row is left transitional; the agent started again on the same data dir and port
brings the host back Up.

Agent frozen (SIGSTOP): its connections stay open, so only the inactivity timeout can tell;
the job fails after it (2 s here), and the thawed agent abandons its drain.

Server killed: each agent's next progress report cannot be delivered, so it abandons its drain
(and says so in its log). The restarted server's reaper takes the job back when its lease
(job.lease.seconds 5) runs out and runs it again (prepareHostForMaintenance is ``on_lost``
rerun), so each host ends in Maintenance and Up, with no job unfinished and no row transitional.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cs import CloudStack

from cirrostack.states import machines
from tests import agent_processes
from tests.acceptance.conftest import (
    Server,
    _print_log_on_failure,
    free_port,
    simulator_cluster,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

#: How long each agent's simulated drain takes (ten steps, a Progress after each).
DRAIN_MS = 3000


@dataclass
class Agent:
    """An agent process and what it takes to start it again in its place."""

    data_dir: Path
    listen: str
    process: subprocess.Popen[bytes]

    def restart(self) -> None:
        self.process = agent_processes.start(self.data_dir, self.listen)

    def log(self) -> str:
        return agent_processes.log_of(self.data_dir).read_text()


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[list[Agent]]:
    """Two agent processes on ports of their own."""
    started: list[Agent] = []
    try:
        for name in ("agent-a", "agent-b"):
            data_dir, listen = tmp_path / name, f"127.0.0.1:{free_port()}"
            started.append(Agent(data_dir, listen, agent_processes.start(data_dir, listen)))
        yield started
    finally:
        for agent in started:
            agent_processes.stop(agent.process)


def _client(server: Server) -> CloudStack:
    return CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)


#: What every test here runs with (the monitor's wait and the reaper's interval are read at
#: start, so the server is started again after setting them).
SETTINGS = {"ping.interval": "1", "job.lease.seconds": "5"}


def _restarted(server: Server, settings: dict[str, str]) -> Server:
    cs = _client(server)
    for name, value in settings.items():
        cs.updateConfiguration(name=name, value=value)
    stop_server(server)
    return start_server(server.data_dir)


@pytest.fixture
def configured(server: Server, request: pytest.FixtureRequest) -> Iterator[Server]:
    """The server started again with ``SETTINGS``."""
    running = _restarted(server, SETTINGS)
    yield running
    stop_server(running)
    _print_log_on_failure(request, running)


@pytest.fixture
def impatient(server: Server, request: pytest.FixtureRequest) -> Iterator[Server]:
    """``configured``, and agent.command.inactivity.timeout 2 s from the start (the transports
    read the value the monitor last read, so a change mid-test could miss a command)."""
    running = _restarted(server, {**SETTINGS, "agent.command.inactivity.timeout": "2"})
    yield running
    stop_server(running)
    _print_log_on_failure(request, running)


def _add_hosts(cs: CloudStack, agents: list[Agent]) -> list[str]:
    zone_id, pod_id, cluster_id = simulator_cluster(cs)
    ids = []
    for agent in agents:
        written = agent_processes.identity(agent.data_dir)
        added = cs.addHost(
            zoneid=zone_id,
            podid=pod_id,
            clusterid=cluster_id,
            hypervisor="Simulator",
            url=f"{written['url']}?maintainms={DRAIN_MS}",
            username="root",
            password=written["secret"],
        )["host"][0]
        assert added["state"] == "Up", added
        ids.append(str(added["id"]))
    return ids


def _host(cs: CloudStack, host_id: str) -> dict[str, Any]:
    return dict(cs.listHosts(id=host_id)["host"][0])


def _job(cs: CloudStack, job_id: str) -> dict[str, Any]:
    return dict(cs.queryAsyncJobResult(jobid=job_id, fetch_result=False))


def _wait(what: str, check: Any, within: float = 30) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {within:g} s: {what}")


def _draining(cs: CloudStack, job_ids: list[str]) -> None:
    """Return once every job's agent has reported drain progress, and none is past half."""
    progress = _wait(
        "every agent reports drain progress",
        lambda: (
            all(_job(cs, job_id)["jobprocstatus"] > 0 for job_id in job_ids)
            and [_job(cs, job_id) for job_id in job_ids]
        ),
    )
    for job in progress:
        assert job["jobstatus"] == 0 and job["jobprocstatus"] <= 50, job


def _finished(cs: CloudStack, job_id: str, within: float = 30) -> dict[str, Any]:
    found: dict[str, Any] = _wait(
        f"job {job_id} finishes",
        lambda: (job := _job(cs, job_id))["jobstatus"] != 0 and job,
        within,
    )
    return found


def _status(cs: CloudStack, host_id: str, state: str, within: float = 30) -> None:
    _wait(f"host {host_id} is {state}", lambda: _host(cs, host_id)["state"] == state, within)


def _nothing_transitional(database: Path) -> None:
    """No unfinished job, no held row, no host in a transitional status or resource state
    (read from the server's database)."""
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            unfinished = connection.execute(
                sa.text("SELECT id, job_cmd FROM async_job WHERE job_status = 0")
            ).all()
            held = connection.execute(sa.text("SELECT * FROM async_job_resource")).all()
            hosts = connection.execute(
                sa.text("SELECT name, status, resource_state FROM host WHERE removed IS NULL")
            ).all()
    finally:
        engine.dispose()
    assert unfinished == [] and held == [], (unfinished, held)
    for name, status, resource_state in hosts:
        assert machines.HostStatus(status) not in machines.HOST_STATUS.transitional, name
        state = machines.ResourceState(resource_state)
        assert state not in machines.HOST_RESOURCE_STATE.transitional, (name, state)


@pytest.mark.timeout(180)
def test_a_killed_agent_fails_its_job_and_its_host_comes_back(
    configured: Server, agents: list[Agent]
) -> None:
    server = configured
    cs = _client(server)
    killed, kept = _add_hosts(cs, agents)
    jobs = [
        cs.prepareHostForMaintenance(id=host_id, fetch_result=False)["jobid"]
        for host_id in (killed, kept)
    ]
    _draining(cs, jobs)

    agent_processes.stop(agents[0].process, signal.SIGKILL)

    failed = _finished(cs, jobs[0])
    assert failed["jobstatus"] == 2, failed
    text = failed["jobresult"]["errortext"]
    assert "did not accept maintenance" in text and "hung up before answering" in text, text
    assert "MaintainCommand" in text, text
    assert _host(cs, killed)["resourcestate"] == "Enabled"  # rolled back with the failure
    succeeded = _finished(cs, jobs[1])
    assert succeeded["jobstatus"] == 1, succeeded
    assert succeeded["jobprocstatus"] == 100
    assert (_host(cs, kept)["resourcestate"], _host(cs, kept)["state"]) == ("Maintenance", "Up")

    _status(cs, killed, "Alert")
    _status(cs, killed, "Down")
    _nothing_transitional(server.data_dir / "cloud.db")

    agents[0].restart()
    _status(cs, killed, "Up")
    assert _host(cs, killed)["resourcestate"] == "Enabled"
    assert _host(cs, kept)["state"] == "Up"
    _nothing_transitional(server.data_dir / "cloud.db")
    # The host is usable again: a new maintenance job on it succeeds.
    again = cs.prepareHostForMaintenance(id=killed, fetch_result=False)["jobid"]
    assert _finished(cs, again)["jobstatus"] == 1
    assert _host(cs, killed)["resourcestate"] == "Maintenance"


@pytest.mark.timeout(180)
def test_a_killed_server_is_reconciled_by_the_restarted_servers_reaper(
    configured: Server, agents: list[Agent]
) -> None:
    server = configured
    cs = _client(server)
    hosts = _add_hosts(cs, agents)
    jobs = [
        cs.prepareHostForMaintenance(id=host_id, fetch_result=False)["jobid"] for host_id in hosts
    ]
    _draining(cs, jobs)

    stop_server(server, signal.SIGKILL)
    # Each agent finds out at its next progress report and stops draining.
    for agent in agents:
        _wait(
            f"{agent.data_dir.name} abandons its drain",
            lambda agent=agent: "MaintainCommand" in agent.log() and "abandoned" in agent.log(),
            within=10,
        )

    restarted = start_server(server.data_dir)
    try:
        cs = _client(restarted)
        outcome = [_finished(cs, job_id, within=60) for job_id in jobs]
        for host_id, job in zip(hosts, outcome, strict=True):
            expected = "Maintenance" if job["jobstatus"] == 1 else "Enabled"
            assert _host(cs, host_id)["resourcestate"] == expected, job
            _status(cs, host_id, "Up")
        # prepareHostForMaintenance is rerun when its server dies: both jobs ran again, and
        # drained their agents to the end this time.
        assert [job["jobstatus"] for job in outcome] == [1, 1], outcome
        assert [job["jobprocstatus"] for job in outcome] == [100, 100], outcome
        assert "reaper: requeued jobs [" in restarted.log.read_text()
        _nothing_transitional(restarted.data_dir / "cloud.db")
    finally:
        stop_server(restarted)


@pytest.mark.timeout(180)
def test_a_frozen_agent_fails_its_job_after_the_inactivity_timeout(
    impatient: Server, agents: list[Agent]
) -> None:
    """The transport cannot tell a frozen agent (SIGSTOP: its connections stay open) from a
    slow one: the job fails once the drain shows no progress for
    agent.command.inactivity.timeout. Thawed, the agent finds its drain's stream gone and
    abandons it, and the host comes back Up."""
    server = impatient
    cs = _client(server)
    frozen, kept = _add_hosts(cs, agents)
    jobs = [
        cs.prepareHostForMaintenance(id=host_id, fetch_result=False)["jobid"]
        for host_id in (frozen, kept)
    ]
    _draining(cs, jobs)

    agents[0].process.send_signal(signal.SIGSTOP)
    try:
        failed = _finished(cs, jobs[0])
        assert failed["jobstatus"] == 2, failed
        text = failed["jobresult"]["errortext"]
        assert "showed no progress on MaintainCommand for 2 s" in text, text
        assert _host(cs, frozen)["resourcestate"] == "Enabled"
        assert _finished(cs, jobs[1])["jobstatus"] == 1
        _status(cs, frozen, "Alert")
    finally:
        agents[0].process.send_signal(signal.SIGCONT)
    _wait("the thawed agent abandons its drain", lambda: "(abandoned)" in agents[0].log())
    _status(cs, frozen, "Up")
    assert _host(cs, kept)["resourcestate"] == "Maintenance"
    _nothing_transitional(server.data_dir / "cloud.db")
