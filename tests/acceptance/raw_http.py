"""Raw HTTP/1.1 over a socket, for the tests that need what no client library sends.

Slow heads, oversized URLs, chunked bodies of any size, silence: each helper is bounded in bytes
and in time, and talks only to the loopback server a test started.
"""

from __future__ import annotations

import json
import select
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    """A parsed response: status, lower-cased headers, body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def connect(url: str, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(address(url), timeout=timeout)


def parse(raw: bytes) -> Answer:
    """The first response in ``raw``; raises ValueError when it is not complete."""
    head, separator, rest = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError(f"incomplete response head: {raw[:200]!r}")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(rest)))
    if len(rest) < length:
        raise ValueError("incomplete response body")
    return Answer(status, headers, rest[:length])


def read_answer(sock: socket.socket, timeout: float = 10.0) -> Answer:
    """Read until one whole response has arrived (or the peer closes)."""
    deadline = time.monotonic() + timeout
    raw = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        raw += chunk
        try:
            return parse(raw)
        except ValueError:
            continue
    return parse(raw)


def exchange(url: str, request: bytes, timeout: float = 10.0) -> Answer:
    """Send ``request`` whole and read the answer."""
    with connect(url, timeout) as sock:
        sock.sendall(request)
        return read_answer(sock, timeout)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the peer closed the connection within ``seconds``, and what it sent before."""
    deadline = time.monotonic() + seconds
    received = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def readable(sock: socket.socket) -> bool:
    ready, _, _ = select.select([sock], [], [], 0)
    return bool(ready)


def rss_peak_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM) in KiB, from /proc."""
    for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: SIM115
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")
