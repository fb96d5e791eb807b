"""No job or resource is stranded by a killed server (issue 3's proof).

A real server runs 50 maintenance jobs that take seconds each (simulated hosts draining for
2 s). It is killed with SIGKILL mid-way, while some jobs are finished, some running and some
pending, and started again on the same database. Every job must reach a terminal state, and no
host may be left in a transitional state (PrepareForMaintenance) without a live job.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests import databases
from tests.acceptance.conftest import Server, simulator_cluster, start_server, stop_server

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

HOSTS = 50
DRAIN_MS = 2000


def client(server: Server) -> CloudStack:
    return CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)


def build_cloud(cs: CloudStack) -> None:
    zone_id, pod_id, cluster_id = simulator_cluster(cs)
    for number in range(HOSTS):
        cs.addHost(
            zoneid=zone_id,
            podid=pod_id,
            clusterid=cluster_id,
            hypervisor="Simulator",
            url=f"http://sim-{number}?maintainms={DRAIN_MS}",
            username="root",
            password="password",
        )


def statuses(cs: CloudStack, jobids: list[str]) -> list[int]:
    return [
        cs.queryAsyncJobResult(jobid=jobid, fetch_result=False)["jobstatus"] for jobid in jobids
    ]


def hosts_by_state(cs: CloudStack) -> dict[str, str]:
    return {
        host["name"]: host["resourcestate"]
        for host in cs.listHosts(fetch_list=True, type="Routing")
    }


@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", databases.BACKENDS)
def test_jobs_survive_a_killed_server(tmp_path: Path, backend: str) -> None:
    reason = databases.unreachable_reason(backend)
    if reason is not None:
        if databases.under_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    with databases.scratch_database(backend, tmp_path) as url:
        database_url = None if backend == "sqlite" else url.render_as_string(hide_password=False)
        _run(tmp_path / "var", database_url)


def _run(data_dir: Path, database_url: str | None) -> None:
    server = start_server(data_dir, database_url)
    try:
        cs = client(server)
        cs.updateConfiguration(name="job.lease.seconds", value="5")
        cs.updateConfiguration(name="ping.interval", value="1")
        stop_server(server)
        server = start_server(data_dir, database_url)  # the reaper interval is set at start
        cs = client(server)
        build_cloud(cs)
        names = sorted(hosts_by_state(cs))
        hosts = {host["name"]: host["id"] for host in cs.listHosts(fetch_list=True)}
        jobids = [
            cs.prepareHostForMaintenance(id=hosts[name], fetch_result=False)["jobid"]
            for name in names
        ]
        _wait_for_some_but_not_all(cs, jobids)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
        server = start_server(data_dir, database_url)
        cs = client(server)
        outcome = _wait_until_all_finished(cs, jobids)
        _check_no_stranded_host(cs, names, jobids, outcome)
        # The jobs the killed server was running were taken back when their leases ran out.
        assert re.search(r"reaper: requeued jobs \[\d", server.log.read_text()), "no requeue"
    finally:
        stop_server(server)


def _wait_for_some_but_not_all(cs: CloudStack, jobids: list[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = sum(1 for status in statuses(cs, jobids) if status != 0)
        if done >= 4:
            assert done < len(jobids) - 8, "the jobs ran too fast to kill the server mid-way"
            return
        time.sleep(0.5)
    raise AssertionError("no job finished within 120 s")


def _wait_until_all_finished(cs: CloudStack, jobids: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        jobs = [cs.queryAsyncJobResult(jobid=jobid, fetch_result=False) for jobid in jobids]
        if all(job["jobstatus"] != 0 for job in jobs):
            return jobs
        time.sleep(1)
    pending = [job["jobid"] for job in jobs if job["jobstatus"] == 0]
    raise AssertionError(f"{len(pending)} job(s) never finished after the restart: {pending}")


def _check_no_stranded_host(
    cs: CloudStack, names: list[str], jobids: list[str], outcome: list[dict[str, Any]]
) -> None:
    states = hosts_by_state(cs)
    assert "PrepareForMaintenance" not in states.values(), states
    for name, job in zip(names, outcome, strict=True):
        expected = "Maintenance" if job["jobstatus"] == 1 else "Enabled"
        assert states[name] == expected, (name, job)
    succeeded = sum(1 for job in outcome if job["jobstatus"] == 1)
    assert succeeded == len(jobids), [job["jobresult"] for job in outcome if job["jobstatus"] != 1]
