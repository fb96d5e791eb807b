"""Per-call cost: a signed listZones against a real server, beside a minimal endpoint.

    .venv/bin/python bench/calls.py [--backend sqlite|postgresql] [--seconds 5]

Starts ``cirrostack serve`` (a real uvicorn process) and ``bench/minimal_server.py`` over the
same database (one zone, made through the API), then drives both with ``wrk`` at 1, 8 and 32
concurrent connections: one signed URL, replayed (a signature without ``expires`` stays valid).
Prints requests per second, p50 and p99 latency, and cirrostack's share of the minimal
endpoint's throughput (goal: at least 40%, and a p99 within 5x of the p50), and each
server's CPU time per request with their ratio: the share a quiet machine would show, which
stays steady when other work shares the cores (the rates do not).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import world as bench_world

from cirrostack import datadir
from cirrostack.api import signing

CLIENTS = (1, 8, 32)
HERE = Path(__file__).resolve().parent


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            httpx.get(url, params={"command": "listCapabilities", "response": "json"}, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 60 s")


@contextmanager
def _process(command: list[str], url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait(url, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _signed_url(base: str, api_key: str, secret_key: str) -> str:
    pairs = [("apiKey", api_key), ("response", "json"), ("command", "listZones")]
    pairs.append(("signature", signing.sign(pairs, secret_key)))
    return f"{base}?{urllib.parse.urlencode(pairs)}"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One wrk run against one server."""

    rate: float
    p50: float
    p99: float
    bad: int
    #: The server's CPU time per answered request (ms): what throughput is on a quiet machine,
    #: and steady when other work shares the cores (the rates are not).
    cpu_ms: float


def _measure(url: str, process: subprocess.Popen[bytes], clients: int, seconds: int) -> Run:
    before = _cpu_seconds(process.pid)
    rate, p50, p99, bad, requests = _wrk(url, clients, seconds)
    used = _cpu_seconds(process.pid) - before
    return Run(rate, p50, p99, bad, 1000 * used / max(requests, 1))


def _wrk(url: str, clients: int, seconds: int) -> tuple[float, float, float, int, int]:
    """Requests/s, p50 and p99 in ms, non-2xx answers, and requests answered."""
    threads = min(clients, 2)
    found = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", found).group(1))  # type: ignore[union-attr]
    p50 = _latency(found, "50%")
    p99 = _latency(found, "99%")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", found)
    requests = int(re.search(r"(\d+) requests in", found).group(1))  # type: ignore[union-attr]
    return rate, p50, p99, int(bad.group(1)) if bad else 0, requests


def _latency(text: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=5)
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="cirrostack-bench-"))
    with bench_world.database(arguments.backend) as url:
        rendered = url.render_as_string(hide_password=False)
        ours, minimal = _port(), _port()
        serve = [sys.executable, "-m", "cirrostack.cli.main", "serve", "--data-dir", str(work)]
        serve += ["--port", str(ours)]
        if arguments.backend != "sqlite":
            serve += ["--database-url", rendered]
        ours_url = f"http://127.0.0.1:{ours}/client/api"
        with _process(serve, ours_url, work / "server.log") as ours_process:
            admin = json.loads((work / "admin.json").read_text())
            database_url = (
                rendered if arguments.backend != "sqlite" else f"sqlite:///{work}/cloud.db"
            )
            world = bench_world.open_world(
                bench_world.make_url(database_url), work / datadir.KEY_FILE_NAME
            )
            world.ok(
                "createZone",
                name="z1",
                dns1="8.8.8.8",
                internaldns1="10.0.0.1",
                networktype="Advanced",
            )
            world.engine.dispose()
            command = [sys.executable, str(HERE / "minimal_server.py"), database_url, str(minimal)]
            minimal_url = f"http://127.0.0.1:{minimal}/client/api"
            with _process(command, minimal_url, work / "minimal.log") as minimal_process:
                signed = _signed_url(ours_url, admin["apikey"], admin["secretkey"])
                print(f"backend {arguments.backend}, signed listZones, {arguments.seconds} s each")
                for clients in CLIENTS:
                    us = _measure(signed, ours_process, clients, arguments.seconds)
                    floor = _measure(minimal_url, minimal_process, clients, arguments.seconds)
                    print(
                        f"{clients:2} clients: cirrostack {us.rate:7.1f} req/s p50 {us.p50:6.1f} ms"
                        f" p99 {us.p99:6.1f} ms ({us.bad} errors) cpu {us.cpu_ms:5.2f} ms/req;"
                        f" minimal {floor.rate:7.1f} req/s p50 {floor.p50:5.1f} ms"
                        f" p99 {floor.p99:5.1f} ms cpu {floor.cpu_ms:5.2f} ms/req;"
                        f" share {us.rate / floor.rate:4.0%} (by cpu"
                        f" {floor.cpu_ms / us.cpu_ms:4.0%}), p99/p50 {us.p99 / us.p50:4.1f}"
                    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
