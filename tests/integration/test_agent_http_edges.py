"""The agent's HTTP server does not let a silent client hold one of its threads forever.

Without a socket timeout, anyone who can reach the agent's port (no secret needed: the
secret is read from the request head) could open connections that send nothing and keep a
thread each. The real server class runs here in a thread, with its timeout shortened (the
default is ``agent.http.IO_TIMEOUT``).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from cirrostack.agent import http
from cirrostack.agent.backends import simulator


def test_a_connection_that_sends_nothing_is_closed(tmp_path: Path) -> None:
    agent = simulator.BACKEND.agent(tmp_path)
    server = http.AgentServer(("127.0.0.1", 0), agent, "s3cret", io_timeout=0.5)
    server.serve_in_thread()
    try:
        with socket.create_connection(server.server_address[:2], timeout=10) as silent:
            started = time.monotonic()
            assert silent.recv(1024) == b""  # the agent closed it
            assert time.monotonic() - started < 5
    finally:
        server.shutdown()
        server.server_close()
