"""The HTTP edge: CloudStack's query API at /client/api as an ASGI application.

GET (query string) and POST (form body) are merged, in order, with blank values kept, because
the signature covers them exactly as sent. Commands run in a worker thread (the services are
synchronous). Every answer is JSON with CloudStack's content type, including errors, and
carries ``edge.SECURITY_HEADERS``.

Only GET and POST run commands (405 otherwise, HEAD included: it changes nothing). The API is
/client/api and anything below it, as CloudStack's servlet mapping ``/api/*``; no path is ever
redirected (a Location built from the Host header would point anywhere), others answer 404,
except the extract links under /client/extract/ (``api.extract_route``: a volume's bytes). A
body is counted while it is read, chunked or not, and refused with 413 the moment it passes
``MAX_BODY`` (or at once when its Content-Length says so): it is never buffered whole first.
A browser's request from another site that would use a session is refused (``api.origin``).

A plain ASGI application, not a framework's router and middleware stack: there is one route,
and on every call the layers a framework adds (routing, two exception middlewares, a header
middleware, a request object) cost about a tenth of a signed call (bench/calls.py). Anything
unexpected is answered 500 in the same envelope, with the same headers, and logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from cirrostack.api import auth, dispatch, edge, errors, extract_route, origin

log = logging.getLogger(__name__)

CONTENT_TYPE = edge.CONTENT_TYPE
#: Larger bodies are refused while they are read (userdata is the largest legitimate value).
MAX_BODY = 4 * 1024 * 1024
#: Threads that run small signed reads at once (``Api._reads``). One: the reads are Python
#: under one interpreter lock, and a second thread only adds hand-offs (bench/calls.py, 8
#: clients on SQLite: 1.3 ms of CPU per call with one thread, 1.7-2.2 ms with two or four).
READ_THREADS = 1
#: The API's paths: /client/api and anything below it.
API_PATH = "/client/api"
_SECURITY_RAW = [(name.lower().encode(), value.encode()) for name, value in edge.SECURITY_HEADERS]
_CONTENT_TYPE_RAW = (b"content-type", CONTENT_TYPE.encode())


Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


def create_app(dispatcher: dispatch.Dispatcher, lifespan: Lifespan | None = None) -> Api:
    """The ASGI application answering CloudStack's API with ``dispatcher``."""
    return Api(dispatcher, lifespan)


class Api:
    """CloudStack's query API as an ASGI application; ``lifespan`` starts and stops the
    server's background services with it."""

    def __init__(self, dispatcher: dispatch.Dispatcher, lifespan: Lifespan | None) -> None:
        self.dispatcher = dispatcher
        self.lifespan = lifespan
        #: The threads small signed reads run on (others: the default pool of 40, as they may
        #: wait on an agent or a lock). Pure CPU under one interpreter lock gains nothing from
        #: more threads; each extra one adds hand-offs.
        self._reads = anyio.CapacityLimiter(READ_THREADS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and extract_route.is_extract(scope["path"]):
            await extract_route.serve(self.dispatcher, scope, send)
        elif scope["type"] == "http":
            try:
                answer = await self._answer(scope, receive)
            except Exception:
                log.exception("the API could not answer %s %s", scope["method"], scope["path"])
                text = "The server could not answer this request; the error is logged"
                answer = _refusal_answer(edge.Refused(HTTPStatus.INTERNAL_SERVER_ERROR, text))
            await _send(send, answer)

    async def _answer(self, scope: Scope, receive: Receive) -> dispatch.Answer:
        path = scope["path"]
        if path != API_PATH and not path.startswith(API_PATH + "/"):
            return _refusal_answer(edge.not_found(path))
        headers = _headers(scope)
        try:
            parsed = await _parse(scope, headers, receive)
            refused = origin.refusal(headers, parsed.cookies, parsed.first("command"))
            if refused is not None:
                raise refused
        except edge.Refused as refusal:
            return _refusal_answer(refusal)
        except errors.ApiError as exc:
            return dispatch.Answer(int(exc.code), {"errorresponse": errors.body(exc)})
        except ClientGone:
            return dispatch.Answer(400, {})  # nobody reads it: the client is gone
        limiter = self._reads if self.dispatcher.quick_read(parsed) else None
        return await anyio.to_thread.run_sync(self.dispatcher.handle, parsed, limiter=limiter)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        if self.lifespan is None:
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        context = self.lifespan(self)
        try:
            await context.__aenter__()
        except Exception as exc:
            log.exception("the server could not start its services")
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        try:
            await context.__aexit__(None, None, None)
        finally:
            await send({"type": "lifespan.shutdown.complete"})


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (a repeated header: its first value)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


async def _parse(scope: Scope, headers: dict[str, str], receive: Receive) -> auth.Request:
    """The request as the dispatcher takes it; raises Refused (405, 413) or ApiError (431)."""
    method = scope["method"]
    if method not in edge.ALLOWED_METHODS:
        raise edge.method_not_allowed(method)
    pairs = _pairs(scope["query_string"].decode("latin-1"))
    if method == "POST":
        body = await _body(headers, receive)
        if _is_form(headers):
            pairs += _pairs(_text(body))
    cookie = headers.get("cookie")
    return auth.Request(method, tuple(pairs), _cookies(cookie) if cookie else {})


async def _body(headers: dict[str, str], receive: Receive) -> bytes:
    """The body, read chunk by chunk; refused as soon as it is known to exceed MAX_BODY."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large() -> edge.Refused:
    return edge.Refused(413, f"The request body exceeds {MAX_BODY} bytes")


def _is_form(headers: dict[str, str]) -> bool:
    kind = headers.get("content-type", "application/x-www-form-urlencoded")
    return kind.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.param_error("The request body is not valid UTF-8") from None


def _pairs(query: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=10_000)
    except (ValueError, UnicodeDecodeError):
        raise errors.param_error("The request parameters could not be decoded as UTF-8") from None


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _refusal_answer(refusal: edge.Refused) -> dispatch.Answer:
    body = edge.envelope(refusal.status, refusal.text)
    return dispatch.Answer(refusal.status, body, list(refusal.headers))


async def _send(send: Send, answer: dispatch.Answer) -> None:
    """Send ``answer`` as JSON with CloudStack's content type and the security headers."""
    content = json.dumps(answer.body, ensure_ascii=False, default=str).encode("utf-8")
    headers = [
        _CONTENT_TYPE_RAW,
        (b"content-length", str(len(content)).encode()),
        *_SECURITY_RAW,
        *(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in answer.headers
        ),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
