"""A real HTTP server on loopback for the ingest tests: routes map a path to what it answers."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Route:
    """One answer: a status, headers, a body; ``stall`` seconds of silence after ``stall_after``
    bytes; ``length`` overrides the Content-Length announced (None: the body's, -1: none, the
    body ends when the connection closes)."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None
    stall_after: int | None = None
    stall: float = 0.0
    #: The rest after ``stall_after`` comes in this many parts, each after a ``stall``.
    pieces: int = 1


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, Route]
    seen: list[tuple[str, str]]

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host", "")))
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404)
            return
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        length = len(route.body) if route.length is None else route.length
        if length >= 0:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self._body(route)

    def _body(self, route: Route) -> None:
        try:
            if route.stall_after is None:
                self.wfile.write(route.body)
                return
            self.wfile.write(route.body[: route.stall_after])
            self.wfile.flush()
            rest = route.body[route.stall_after :]
            size = -(-len(rest) // max(1, route.pieces))
            for start in range(0, len(rest), size or 1):
                time.sleep(route.stall)
                self.wfile.write(rest[start : start + size])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Server:
    base: str
    routes: dict[str, Route]
    seen: list[tuple[str, str]]


@contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """A threading HTTP server on 127.0.0.1 and a free port (HTTPS with ``tls``), stopped after."""
    routes: dict[str, Route] = {}
    seen: list[tuple[str, str]] = []
    handler = type("Handler", (_Handler,), {"routes": routes, "seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        scheme = "http" if tls is None else "https"
        yield Server(f"{scheme}://127.0.0.1:{server.server_address[1]}", routes, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
