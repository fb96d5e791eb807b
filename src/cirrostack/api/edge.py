"""What the HTTP edge answers before any command runs, in CloudStack's error envelope.

Refusals at the edge (a method other than GET/POST, a path outside the API, a body, URL or
header over its limit, a head that never completes, bytes that are not HTTP) have no CloudStack
error code of their own: their ``errorcode`` is the HTTP status, under ``errorresponse``, as
CloudStack's servlet answers its own refusals (401 "unable to verify user credentials")::

    {"errorresponse": {"uuidList": [], "errorcode": 413, "errortext": "..."}}

Every answer, a command's or a refusal, carries ``SECURITY_HEADERS``. Used by ``api.app``
(ASGI) and ``api.connection`` (refusals written before a request reaches the application).
"""

from __future__ import annotations

import json
from http import HTTPStatus

CONTENT_TYPE = "application/json; charset=UTF-8"

#: Sent with every answer: API answers are data, never a page to sniff, frame, cache or refer from.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
)

#: The only methods that run commands (CloudStack's ApiServlet has doGet and doPost).
ALLOWED_METHODS = ("GET", "POST")


class Refused(Exception):
    """A request refused at the edge; ``status`` is both the HTTP status and the errorcode."""

    def __init__(self, status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers


def envelope(status: int, text: str) -> dict[str, object]:
    """The JSON answer of a refusal."""
    return {"errorresponse": {"uuidList": [], "errorcode": status, "errortext": text}}


def method_not_allowed(method: str) -> Refused:
    """405 for HEAD, PUT, OPTIONS...: nothing runs, so nothing changes."""
    return Refused(
        HTTPStatus.METHOD_NOT_ALLOWED,
        f"HTTP method {method} is not supported; use GET or POST",
        (("Allow", ", ".join(ALLOWED_METHODS)),),
    )


def not_found(path: str) -> Refused:
    return Refused(HTTPStatus.NOT_FOUND, f"No API at {path[:200]}; the API is at /client/api")


def raw_response(refusal: Refused) -> bytes:
    """A whole HTTP/1.1 response for ``refusal`` that closes the connection (for the
    connection layer, which answers before uvicorn has a request to answer)."""
    body = json.dumps(envelope(refusal.status, refusal.text)).encode()
    reason = HTTPStatus(refusal.status).phrase
    lines = [
        f"HTTP/1.1 {refusal.status} {reason}",
        f"Content-Type: {CONTENT_TYPE}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (*SECURITY_HEADERS, *refusal.headers)),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
