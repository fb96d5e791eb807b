"""The HTTP edge: CloudStack's query API at /client/api as an ASGI application.

GET (query string) and POST (form body) are merged, in order, with blank values kept, because
the signature covers them exactly as sent. Commands run in a worker thread (the services are
synchronous). Every answer is JSON with CloudStack's content type, including errors, and
carries ``edge.SECURITY_HEADERS``.

Only GET and POST run commands (405 otherwise, HEAD included: it changes nothing). The API is
/client/api and anything below it, as CloudStack's servlet mapping ``/api/*``; no path is ever
redirected (a Location built from the Host header would point anywhere), others answer 404. A
body is counted while it is read, chunked or not, and refused with 413 the moment it passes
``MAX_BODY`` (or at once when its Content-Length says so): it is never buffered whole first.
A browser's request from another site that would use a session is refused (``api.origin``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cirrostack.api import auth, dispatch, edge, errors, origin

CONTENT_TYPE = edge.CONTENT_TYPE
#: Larger bodies are refused while they are read (userdata is the largest legitimate value).
MAX_BODY = 4 * 1024 * 1024
_SECURITY_RAW = [(name.lower().encode(), value.encode()) for name, value in edge.SECURITY_HEADERS]


Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_app(dispatcher: dispatch.Dispatcher, lifespan: Lifespan | None = None) -> Starlette:
    """The ASGI application answering CloudStack's API with ``dispatcher``."""

    async def api(request: Request) -> Response:
        try:
            parsed = await _parse(request)
            _refuse_cross_site(request, parsed)
        except edge.Refused as refusal:
            return _refuse(refusal)
        except errors.ApiError as exc:
            return _respond(dispatch.Answer(int(exc.code), {"errorresponse": errors.body(exc)}))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody reads it: the client is gone
        answer = await run_in_threadpool(dispatcher.handle, parsed)
        return _respond(answer)

    async def missing(request: Request, _: Exception) -> Response:
        return _refuse(edge.not_found(request.url.path))

    async def wrong_method(request: Request, _: Exception) -> Response:
        return _refuse(edge.method_not_allowed(request.method))

    methods = edge.ALLOWED_METHODS  # Starlette adds HEAD to GET; ``_parse`` refuses it
    application = Starlette(
        routes=[
            Route("/client/api", api, methods=methods),
            Route("/client/api/{rest:path}", api, methods=methods),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={404: missing, 405: wrong_method},
        lifespan=lifespan,
    )
    application.router.redirect_slashes = False
    return application


class SecurityHeaders:
    """ASGI middleware: ``edge.SECURITY_HEADERS`` on every answer the application sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *_SECURITY_RAW]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


async def _parse(request: Request) -> auth.Request:
    """The request as the dispatcher takes it; raises Refused (405, 413) or ApiError (431)."""
    if request.method not in edge.ALLOWED_METHODS:
        raise edge.method_not_allowed(request.method)
    pairs = _pairs(request.url.query)
    if request.method == "POST":
        body = await _body(request)
        if _is_form(request):
            pairs += _pairs(_text(body))
    return auth.Request(request.method, tuple(pairs), _cookies(request.headers.get("cookie", "")))


def _refuse_cross_site(request: Request, parsed: auth.Request) -> None:
    refused = origin.refusal(request.headers, parsed.cookies, parsed.first("command"))
    if refused is not None:
        raise refused


async def _body(request: Request) -> bytes:
    """The body, read chunk by chunk; refused as soon as it is known to exceed MAX_BODY."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> edge.Refused:
    return edge.Refused(413, f"The request body exceeds {MAX_BODY} bytes")


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "application/x-www-form-urlencoded")
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


def _refuse(refusal: edge.Refused) -> Response:
    answer = dispatch.Answer(refusal.status, edge.envelope(refusal.status, refusal.text))
    return _respond(dataclasses.replace(answer, headers=list(refusal.headers)))


def _respond(answer: dispatch.Answer) -> Response:
    content = json.dumps(answer.body, ensure_ascii=False, default=str).encode("utf-8")
    response = Response(content, status_code=answer.status, media_type=None)
    response.headers["content-type"] = CONTENT_TYPE
    for name, value in answer.headers:
        response.headers.append(name, value)
    return response
