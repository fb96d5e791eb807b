"""The agent protocol over HTTP: what ``cirrostack agent`` serves (the stdlib's threading server).

One endpoint, ``POST /v1/command``, whose body is one command (``protocol.codec`` JSON). The
response (200, ``application/x-ndjson``, ended by closing the connection) is the command's
stream: one line per Progress, then one line with the Answer. A CancelCommand is sent the same
way and answered at once (CancelAnswer); the cancelled command's own stream then ends with
CancelledAnswer. Several commands run at once, one thread each.

Every request must carry ``Authorization: Bearer <secret>`` (the secret of DIR/agent.json,
compared in constant time); without it the answer is a bare 401 with no body, whatever the path
or method, before anything else is looked at. After that, another path is 404, another method
405, a body that is not a command 400 (with the reason as text).
"""

from __future__ import annotations

import hmac
import http.server
import logging
import ssl
import threading
from pathlib import Path

from cirrostack.agent import work
from cirrostack.protocol import answers, codec, messages
from cirrostack.protocol import errors as protocol_errors

log = logging.getLogger(__name__)

PATH = "/v1/command"
CONTENT_TYPE = "application/x-ndjson"
#: The largest command body accepted (commands are small; bulk data never crosses here).
MAX_BODY = 1 << 20
#: Seconds any one read or write of a connection may wait: a client that opens a connection
#: and sends nothing (or a byte at a time) is closed, and so is a server that stopped reading
#: a command's stream (the command is then abandoned, as when it hangs up).
IO_TIMEOUT = 30.0


class AgentServer(http.server.ThreadingHTTPServer):
    """Serves one agent to whoever has its secret."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        agent: work.Agent,
        secret: str,
        *,
        io_timeout: float = IO_TIMEOUT,
    ) -> None:
        super().__init__(address, _Handler)
        self.agent = agent
        self.expected = f"Bearer {secret}".encode()
        self.io_timeout = io_timeout

    def use_tls(self, cert: Path, key: Path) -> None:
        """Serve HTTPS with the certificate chain ``cert`` and its private key ``key``."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    def serve_in_thread(self) -> threading.Thread:
        """Serve until ``shutdown`` in a daemon thread (tests); returns the thread."""
        thread = threading.Thread(target=self.serve_forever, name="agent-http", daemon=True)
        thread.start()
        return thread


class _Handler(http.server.BaseHTTPRequestHandler):
    server: AgentServer
    protocol_version = "HTTP/1.0"

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.io_timeout)  # each read and write of the socket

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        if not self._authorized():
            return
        if self.path != PATH:
            self._plain(404, "no such path")
            return
        command = self._command()
        if command is None:
            return
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.end_headers()
        lock = threading.Lock()

        def line(message: messages.Message) -> None:
            with lock:
                self.wfile.write(codec.encode(message).encode() + b"\n")
                self.wfile.flush()

        answer = self.server.agent.handle(command, line)
        try:
            line(answer)
        except OSError:  # the server hung up (it gave up, or it died): nothing to tell
            # A command whose progress could not be delivered was abandoned (``work.Work``).
            outcome = "abandoned" if isinstance(answer, answers.CancelledAnswer) else "finished"
            log.info(
                "the server left before the answer to %s %s (%s)",
                type(command).__name__,
                command.id,
                outcome,
            )

    def do_GET(self) -> None:
        if self._authorized():
            self._plain(405, "only POST")

    do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET  # noqa: N815 - the stdlib names them

    def _authorized(self) -> bool:
        given = (self.headers.get("Authorization") or "").encode()
        if hmac.compare_digest(given, self.server.expected):
            return True
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def _command(self) -> messages.Command | None:
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._plain(400, f"a command needs a Content-Length of at most {MAX_BODY} bytes")
            return None
        try:
            decoded = codec.decode(self.rfile.read(length))
        except protocol_errors.MalformedMessage as exc:
            self._plain(400, str(exc))
            return None
        if not isinstance(decoded, messages.Command):
            self._plain(400, f"{type(decoded).__name__} is not a command")
            return None
        return decoded

    def _plain(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
