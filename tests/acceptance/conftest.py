"""A real ``cirrostack serve`` process for acceptance tests, reached over real HTTP.

``server`` runs on SQLite in a temporary data directory (the README's default);
``server_on`` runs on every backend (SQLite, PostgreSQL, MariaDB) with a scratch database.
Each fixture waits until the API answers, reads DIR/admin.json, and stops the process
afterwards (its log is printed when a test fails, to see why).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import databases
from tests.conftest import MigratedUrl

pytestmark = pytest.mark.acceptance


@dataclass(frozen=True)
class Server:
    """A running management server and the admin credentials it wrote."""

    url: str
    api_key: str
    secret_key: str
    password: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return self.url.removesuffix("/client/api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    data_dir: Path,
    database_url: str | None = None,
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Server:
    """Start ``cirrostack serve`` (with ``extra`` arguments, in ``env`` if given, else this
    process's environment) and wait until it answers."""
    port = free_port()
    log = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "cirrostack.cli.main", "serve", "--data-dir", str(data_dir)]
    command += ["--port", str(port)]
    if database_url:
        command += ["--database-url", database_url]
    command += list(extra)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=None if env is None else dict(env)
        )
    url = f"http://127.0.0.1:{port}/client/api"
    _wait_until_up(url, process, log)
    admin = json.loads((data_dir / "admin.json").read_text())
    return Server(
        url, admin["apikey"], admin["secretkey"], admin["password"], data_dir, process, log
    )


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, params={"command": "listCapabilities", "response": "json"}, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not answer within 60 s:\n{log.read_text()}")


def stop_server(server: Server, sig: int = signal.SIGTERM) -> None:
    if server.process.poll() is None:
        server.process.send_signal(sig)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture
def server(
    tmp_path: Path, request: pytest.FixtureRequest, template_url: MigratedUrl
) -> Iterator[Server]:
    """A server on the embedded SQLite default, its cloud.db a copy of the migrated template."""
    data_dir = tmp_path / "var"
    data_dir.mkdir(parents=True)
    with databases.scratch_database(
        "sqlite", tmp_path, template_url("sqlite"), path=data_dir / "cloud.db"
    ):
        running = start_server(data_dir)
        yield running
        stop_server(running)
    _print_log_on_failure(request, running)


@pytest.fixture(params=databases.BACKENDS)
def server_on(
    tmp_path: Path, request: pytest.FixtureRequest, template_url: MigratedUrl
) -> Iterator[Server]:
    """A server on each backend: SQLite, PostgreSQL and MariaDB (copies of the template)."""
    backend = request.param
    reason = databases.unreachable_reason(backend)
    if reason is not None:
        if databases.under_ci():
            pytest.fail(f"{reason} (CI is set: every database must be reachable)")
        pytest.skip(reason)
    data_dir = tmp_path / "var"
    data_dir.mkdir(parents=True)
    target = data_dir / "cloud.db"
    with databases.scratch_database(backend, tmp_path, template_url(backend), path=target) as url:
        database_url = None if backend == "sqlite" else url.render_as_string(hide_password=False)
        running = start_server(data_dir, database_url)
        yield running
        stop_server(running)
    _print_log_on_failure(request, running)


def _print_log_on_failure(request: pytest.FixtureRequest, running: Server) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        sys.stderr.write(f"--- server log ---\n{running.log.read_text()}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def client_env(running: Server) -> dict[str, str]:
    """Environment for the ``cs`` CLI pointing at ``running`` with the admin keys."""
    env = dict(os.environ)
    env.update(
        CLOUDSTACK_ENDPOINT=running.url,
        CLOUDSTACK_KEY=running.api_key,
        CLOUDSTACK_SECRET=running.secret_key,
    )
    return env


def simulator_cluster(cs: Any) -> tuple[str, str, str]:
    """A zone, a pod (10.1.0.10-250) and a Simulator cluster made through the API with ``cs``
    (a ``cs.CloudStack``); their ids."""
    zone = cs.createZone(name="z", dns1="8.8.8.8", internaldns1="10.0.0.2", networktype="Advanced")
    pod = cs.createPod(
        name="p",
        zoneid=zone["zone"]["id"],
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.250",
    )["pod"]
    cluster = cs.addCluster(
        clustername="c",
        clustertype="CloudManaged",
        hypervisor="Simulator",
        podid=pod["id"],
        zoneid=zone["zone"]["id"],
    )["cluster"][0]
    return str(zone["zone"]["id"]), str(pod["id"]), str(cluster["id"])
