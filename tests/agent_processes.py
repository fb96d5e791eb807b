"""Real ``cirrostack agent`` processes for tests: start one on a free port, read its
agent.json and its log, stop it (SIGTERM, or SIGKILL to play a crash).

An agent's output goes to ``log_of(data_dir)`` (beside its data directory, appended to across
restarts), so a test can read what it did and a pipe nobody reads never fills up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

SRC = Path(__file__).resolve().parents[1] / "src"


def start(data_dir: Path, listen: str = "127.0.0.1:0", *extra: str) -> subprocess.Popen[bytes]:
    """Start an agent serving from ``data_dir``; returns once its agent.json names its url."""
    environment = {**os.environ, "PYTHONPATH": str(SRC)}
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with log_of(data_dir).open("ab") as output:
        process = _spawn(data_dir, listen, extra, environment, output)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        url = _url(data_dir)
        if url is not None and _listening(url):
            return process
        if process.poll() is not None:
            raise RuntimeError(
                f"the agent exited with {process.returncode}: {log_of(data_dir).read_text()}"
            )
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the agent did not start within 20 s")


def log_of(data_dir: Path) -> Path:
    """Where the output of the agent serving from ``data_dir`` goes."""
    return data_dir.parent / f"{data_dir.name}.log"


def _spawn(
    data_dir: Path,
    listen: str,
    extra: tuple[str, ...],
    environment: dict[str, str],
    output: IO[bytes],
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cirrostack.cli.main",
            "agent",
            "--backend",
            "simulator",
            "--listen",
            listen,
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def identity(data_dir: Path) -> dict[str, str]:
    """What the agent's agent.json says (url, secret)."""
    loaded = json.loads((data_dir / "agent.json").read_text())
    assert isinstance(loaded, dict)
    return {str(key): str(value) for key, value in loaded.items()}


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop the agent with ``sig`` and wait for it."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _url(data_dir: Path) -> str | None:
    try:
        return identity(data_dir).get("url")
    except (OSError, ValueError):
        return None


def _listening(url: str) -> bool:
    import socket
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 0), timeout=0.5):
            return True
    except OSError:
        return False
