"""A transport to agents in their own processes, over HTTP(S) with httpx (``agent.http`` is the
other end; docs/agents.md describes the wire).

Where an agent is and its secret are asked of a ``Directory`` at every send (``Remote`` per
host guid, from the host row and its sealed details). A command is one POST whose response
streams Progress lines, then the Answer. The inactivity timeout is httpx's read timeout: no
line for that long, and the command is cancelled (a second, short POST) and AgentTimedOut
raised; a stream that keeps moving may last as long as the work does.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from cirrostack.protocol import codec, commands, messages
from cirrostack.protocol import errors as protocol_errors
from cirrostack.transport import base, endpoint, errors

PATH = "/v1/command"
#: Seconds to open a connection, and to wait for a cancel's answer.
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Remote:
    """How to reach one agent: its base url (``http[s]://H:P``) and its secret."""

    url: str
    secret: str = field(repr=False)


class Directory(Protocol):
    """Finds the remote agent of a host identity."""

    def remote_for(self, guid: str) -> Remote | None:
        """The agent of ``guid`` if it is a remote one, else None."""
        ...


class HttpTransport:
    """Sends commands to remote agents; ``verify`` is httpx's (True: the system's CAs, a path:
    a CA bundle, an SSLContext)."""

    def __init__(
        self,
        directory: Directory,
        inactivity: Callable[[], float] = lambda: base.DEFAULT_INACTIVITY,
        verify: ssl.SSLContext | str | bool = True,
    ) -> None:
        self._directory = directory
        self._inactivity = inactivity
        self._verify = verify
        #: One client per agent address and secret: its TLS context and pool are built once.
        self._clients: dict[Remote, httpx.Client] = {}
        self._lock = threading.Lock()

    def send(
        self,
        to: endpoint.Endpoint,
        command: messages.Command,
        progress: base.OnProgress | None = None,
    ) -> messages.Answer:
        """See ``base.Transport.send``."""
        remote = self._remote(to)
        limit = float(command.wait) or self._inactivity()
        timeout = httpx.Timeout(limit, connect=CONNECT_TIMEOUT)
        body = _encoded(command)
        try:
            with self._client(remote).stream(
                "POST", PATH, content=body, timeout=timeout
            ) as response:
                _check_status(to, response)
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    arrived = _decoded(to, line)
                    if isinstance(arrived, messages.Progress):
                        if progress is not None and arrived.command_id == command.id:
                            progress(arrived)
                        continue
                    if isinstance(arrived, messages.Answer):
                        return arrived
                    raise errors.BadAnswer(f"{to} answered with {type(arrived).__name__}")
        except httpx.ReadTimeout:
            self._give_up(to, remote, command)
            raise errors.AgentTimedOut(
                f"{to} showed no progress on {type(command).__name__} for {limit:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise errors.AgentUnavailable(f"{to} does not answer at {remote.url}: {exc}") from exc
        raise errors.AgentUnavailable(f"{to} hung up before answering {type(command).__name__}")

    def cancel(self, to: endpoint.Endpoint, command_id: str) -> bool:
        """See ``base.Transport.cancel``."""
        remote = self._remote(to)
        cancel = commands.CancelCommand(command_id=command_id)
        try:
            response = self._client(remote).post(
                PATH, content=_encoded(cancel), timeout=httpx.Timeout(CONNECT_TIMEOUT)
            )
        except httpx.TransportError as exc:
            raise errors.AgentUnavailable(f"{to} does not answer at {remote.url}: {exc}") from exc
        _check_status(to, response)
        lines = [line for line in response.text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise errors.BadAnswer(f"{to} answered a cancel with {len(lines)} lines")
        return base.cancel_answer(to, _decoded(to, lines[0]))

    def _client(self, remote: Remote) -> httpx.Client:
        with self._lock:
            client = self._clients.get(remote)
            if client is None:
                client = self._clients[remote] = httpx.Client(
                    base_url=remote.url,
                    timeout=CONNECT_TIMEOUT,
                    verify=self._verify,
                    headers={"Authorization": f"Bearer {remote.secret}"},
                    follow_redirects=False,
                    trust_env=False,
                )
            return client

    def close(self) -> None:
        """Close every client (their connections); the transport builds new ones if used."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def _remote(self, to: endpoint.Endpoint) -> Remote:
        remote = self._directory.remote_for(to.guid)
        if remote is None:
            raise errors.AgentUnavailable(f"{to} has no agent address")
        return remote

    def _give_up(self, to: endpoint.Endpoint, remote: Remote, command: messages.Command) -> None:
        # The agent is in trouble already; the timeout is the news, not a failed cancel.
        with contextlib.suppress(errors.TransportError):
            self.cancel(to, command.id)


def _encoded(command: messages.Command) -> bytes:
    try:
        return codec.encode(command).encode()
    except protocol_errors.MalformedMessage as exc:
        raise errors.BadAnswer(f"{type(command).__name__} cannot be sent: {exc}") from exc


def _decoded(to: endpoint.Endpoint, line: str) -> messages.Message:
    try:
        return codec.decode(line)
    except protocol_errors.MalformedMessage as exc:
        raise errors.BadAnswer(f"{to} sent {exc}") from exc


def _check_status(to: endpoint.Endpoint, response: httpx.Response) -> None:
    if response.status_code == 401:
        raise errors.Unauthorized(f"{to} refused this server's secret")
    if response.status_code != 200:
        response.read()
        raise errors.BadAnswer(f"{to} answered HTTP {response.status_code}: {response.text[:200]}")
