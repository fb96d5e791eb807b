"""Real ``cirrostack agent`` processes for tests: start one on a free port, read its
agent.json, stop it (SIGTERM, or SIGKILL to play a crash)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def start(data_dir: Path, listen: str = "127.0.0.1:0", *extra: str) -> subprocess.Popen[bytes]:
    """Start an agent serving from ``data_dir``; returns once its agent.json names its url."""
    environment = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
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
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        url = _url(data_dir)
        if url is not None and _listening(url):
            return process
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"the agent exited with {process.returncode}: {output}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the agent did not start within 20 s")


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
    if process.stdout is not None:
        process.stdout.close()


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
