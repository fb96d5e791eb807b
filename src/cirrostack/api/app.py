"""The HTTP edge: CloudStack's query API at /client/api as an ASGI application.

GET (query string) and POST (form body) are merged, in order, with blank values kept, because
the signature covers them exactly as sent. Commands run in a worker thread (the services are
synchronous). Every answer is JSON with CloudStack's content type, including errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cirrostack.api import auth, dispatch, errors

CONTENT_TYPE = "application/json; charset=UTF-8"
#: Larger bodies are refused before parsing (userdata is the largest legitimate value).
MAX_BODY = 4 * 1024 * 1024


Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_app(dispatcher: dispatch.Dispatcher, lifespan: Lifespan | None = None) -> Starlette:
    """The ASGI application answering CloudStack's API with ``dispatcher``."""

    async def api(request: Request) -> Response:
        try:
            parsed = await _parse(request)
        except errors.ApiError as exc:
            return _respond(dispatch.Answer(int(exc.code), {"errorresponse": errors.body(exc)}))
        answer = await run_in_threadpool(dispatcher.handle, parsed)
        return _respond(answer)

    return Starlette(routes=[Route("/client/api", api, methods=["GET", "POST"])], lifespan=lifespan)


async def _parse(request: Request) -> auth.Request:
    pairs = _pairs(request.url.query)
    if request.method == "POST":
        body = await request.body()
        if len(body) > MAX_BODY:
            raise errors.param_error(f"Request body exceeds {MAX_BODY} bytes")
        if _is_form(request):
            pairs += _pairs(_text(body))
    return auth.Request(request.method, tuple(pairs), _cookies(request.headers.get("cookie", "")))


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


def _respond(answer: dispatch.Answer) -> Response:
    content = json.dumps(answer.body, ensure_ascii=False, default=str).encode("utf-8")
    response = Response(content, status_code=answer.status, media_type=None)
    response.headers["content-type"] = CONTENT_TYPE
    for name, value in answer.headers:
        response.headers.append(name, value)
    return response
