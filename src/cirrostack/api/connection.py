"""One HTTP/1.1 connection under the API: uvicorn's h11 protocol with the limits it lacks.

uvicorn closes an idle keep-alive connection, but never one that opens and sends nothing, or
that sends its request head or body a byte at a time; and it answers a head over its buffer
with a text/plain 400 and an immediate close, which resets a client still sending. Here:

    head deadline    the request head is complete within ``head_timeout`` of the connection
                     opening (or of the previous answer), however slowly bytes trickle in;
                     else 408 (or a plain close when nothing was sent)
    body deadline    the body is complete within ``body_timeout`` of its head; else close
    head size        a request line longer than ``max_head`` answers 414, other fields 431
    lingering close  after an answer whose request was not read to its end (413, 414, 431,
                     408, 400), the server stops writing, discards what still arrives for
                     ``linger`` seconds, then closes: the client reads the answer, not a reset

Every refusal is CloudStack's envelope (``api.edge``). Called by uvicorn: the CLI passes
``protocol_class(limits)`` as ``uvicorn.run(http=...)``. It relies on uvicorn's ``H11Protocol``
attributes ``conn``, ``transport``, ``flow``, ``cycle`` and ``loop`` (written against uvicorn
0.54; tests/acceptance/test_http_edges.py fails when they change).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from cirrostack.api import edge


@dataclass(frozen=True)
class Limits:
    """Deadlines (seconds) and the largest request head (bytes) of a connection."""

    head_timeout: float = 10.0
    body_timeout: float = 60.0
    max_head: int = 64 * 1024
    linger: float = 5.0

    @property
    def h11_buffer(self) -> int:
        """h11's own limit, above ours so that the refusal is ours (414/431, not its 400)."""
        return self.max_head + 1024


class _Phase(enum.Enum):
    HEAD = "head"
    BODY = "body"
    LINGER = "linger"


def protocol_class(limits: Limits) -> type[GuardedH11Protocol]:
    """A protocol class for uvicorn that applies ``limits``."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines, head limits and lingering closes."""

    limits: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: _Phase | None = None
        self._timer: asyncio.TimerHandle | None = None
        #: Bytes received since the head now awaited began (counted, so that a head sent a
        #: byte at a time costs no copy of h11's buffer per byte).
        self._head_seen = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Bytes from the client: discarded while lingering; a head over the limit is
        refused before h11 sees it; otherwise uvicorn parses them."""
        if self._phase is _Phase.LINGER:
            return
        if self.conn.their_state is h11.IDLE:
            self._head_seen += len(data)
            if self._head_seen > self.limits.max_head and self._refuse_oversized_head(data):
                return
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        """An answer was sent. If its request body was not read to its end (a 413, or a
        command that ignores a body), the connection cannot carry another request: linger."""
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self.server_state.total_requests += 1
            self._linger()
            return
        super().on_response_complete()
        self._watch()

    def send_400_response(self, msg: str) -> None:
        """Bytes h11 could not parse as HTTP/1.1 (uvicorn would answer text/plain)."""
        self._refuse(edge.Refused(HTTPStatus.BAD_REQUEST, "The request is not valid HTTP/1.1"))

    # --- deadlines --------------------------------------------------------------------------

    def _watch(self) -> None:
        """Arm the deadline of the part of a request now awaited; a deadline once armed is
        never pushed back by more bytes arriving (that is what a slow client relies on)."""
        if self._phase is _Phase.LINGER or self.transport.is_closing():
            return
        state = self.conn.their_state
        phase = {h11.IDLE: _Phase.HEAD, h11.SEND_BODY: _Phase.BODY}.get(state)
        if phase is self._phase:
            return
        self._cancel()
        self._phase = phase
        if phase is _Phase.HEAD:
            self._head_seen = len(self.conn.trailing_data[0])
            self._timer = self.loop.call_later(self.limits.head_timeout, self._head_expired)
        elif phase is _Phase.BODY:
            self._timer = self.loop.call_later(self.limits.body_timeout, self._body_expired)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_expired(self) -> None:
        self._timer = None
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        if not self.conn.trailing_data[0]:
            self.transport.close()  # silence: nobody to answer
            return
        text = f"The request head was not complete within {self.limits.head_timeout:g} seconds"
        self._refuse(edge.Refused(HTTPStatus.REQUEST_TIMEOUT, text))

    def _body_expired(self) -> None:
        # The application is waiting for the body; closing tells it the client is gone.
        self._timer = None
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self.transport.close()

    # --- refusals ---------------------------------------------------------------------------

    def _refuse_oversized_head(self, data: bytes) -> bool:
        """Refuse (and return True) when the head being received outgrows ``max_head``."""
        buffered = self.conn.trailing_data[0]
        if len(buffered) + len(data) <= self.limits.max_head:
            return False
        head = (buffered + data)[: self.limits.max_head + 4]
        if b"\r\n\r\n" in head:
            return False
        if b"\r\n" not in head:
            refusal = edge.Refused(
                HTTPStatus.REQUEST_URI_TOO_LONG,
                f"The request URL is longer than {self.limits.max_head} bytes; "
                "send large parameters in a POST body",
            )
        else:
            refusal = edge.Refused(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"The request header fields are larger than {self.limits.max_head} bytes",
            )
        self._refuse(refusal)
        return True

    def _refuse(self, refusal: edge.Refused) -> None:
        """Write ``refusal`` as a whole response, then linger."""
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # a pipelined request's answer is not sent after this
        self.transport.write(edge.raw_response(refusal))
        self._linger()

    def _linger(self) -> None:
        self._cancel()
        self._unset_keepalive_if_required()
        self._phase = _Phase.LINGER
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self._timer = self.loop.call_later(self.limits.linger, self.transport.close)
